"""``eidetica reembed``: move a database to another embedder, with a progress bar; an interrupted
run resumes. A store-wide operation (every tenant and user), so it opens the store itself rather
than a ``Memory``, which would refuse the new embedder."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ..config import redacted_errors, resolve_db
from ..embedders import load_embedder
from ..errors import EideticaError
from ..lifecycle import reembed as reembedding
from ..storage import Store, open_store
from .common import INTERRUPTED, Run, _command, _progress, err, out


@_command()
def reembed(
    run: Run,
    embedder: Annotated[
        str,
        typer.Option(
            "--embedder",
            help="The embedder to move the database to: wordllama or minilm (set EIDETICA_EMBEDDER "
            "to it afterwards).",
        ),
    ],
) -> None:
    """Embed every stored unit again with another embedder, for all tenants and users; searches use
    the old vectors until the new ones are all in, and an interrupted run resumes."""
    with redacted_errors():
        store = open_store(resolve_db(run.db))
        try:
            report = _run(store, embedder, quiet=run.as_json)
        finally:
            store.close()
    run.show(report, lambda done: _print_reembedded(done, embedder))


def _print_reembedded(report: reembedding.ReembedReport, embedder: str) -> None:
    """What was re-embedded, and the ``EIDETICA_EMBEDDER`` to open the database with from now on."""
    if not report.changed:
        out.print(f"the database already holds {escape(report.embedder)} vectors: nothing to re-embed")
        return
    earlier = f", {report.resumed} more by an earlier run" if report.resumed else ""
    out.print(
        f"re-embedded {report.embedded} units with {escape(report.embedder)}{earlier} "
        f"(was {escape(str(report.previous))}); open the database with "
        f"EIDETICA_EMBEDDER={escape(embedder)} from now on",
        highlight=False,
    )


def _run(store: Store, name: str, *, quiet: bool) -> reembedding.ReembedReport:
    """Re-embed with a progress bar; say so when resuming, and how to resume when stopped."""
    model = load_embedder(name)
    resume = f"run `eidetica reembed --embedder {name}` again to resume"
    started = False
    with _progress("re-embedding", transient=quiet) as bar:
        task = bar.add_task("reembed", total=None)

        def progress(done: int, total: int) -> None:
            nonlocal started
            if not started and done:
                err.print(
                    f"resuming: {done} of {total} units were embedded with {escape(model.name)} by "
                    "an earlier run",
                    highlight=False,
                )
            started = True
            bar.update(task, completed=done, total=total)

        try:
            return reembedding.reembed(store, model, progress=progress)
        except KeyboardInterrupt:
            err.print(f"interrupted: the database still uses its old embedder; {resume}", highlight=False)
            raise typer.Exit(INTERRUPTED) from None
        except EideticaError as exc:
            if started:  # staging began: nothing changed for searches, and a rerun resumes
                exc.args = (
                    f"{exc}; the database still uses its old embedder and keeps what was embedded: {resume}",
                )
            raise
