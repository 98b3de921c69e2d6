"""The ``eidetica`` command: add, search and manage memories from a shell.

Each memory command is a thin shell over one ``Memory`` method of the contract in ``api``: the
same parameters (``user_id`` is ``--user``, ``kinds`` is ``--kind``, ``budget_tokens`` is
``--budget``), the same defaults, and with ``--json`` exactly what the method returns, in the one
JSON form of ``wire.to_wire``.

What lives where:

- ``common``: the Typer ``app``, the consoles and the shared helpers (error handling and
  registering commands, opening the memory, progress bars, JSON and tables);
- ``options``: the options several commands declare, each written once, and their checks;
- ``memory_commands``: add, search, context, answer, import, list, show, history, update,
  delete;
- ``graph_commands``: entities, entity, related (who and what memory mentions);
- ``memory_upkeep``: quarantine, review, maintain, restore, forget, stats, users, rebuild;
- ``reembed_command``: reembed, which moves a database to another embedder;
- ``server_commands``: serve, demo, bench, mcp;
- ``eval_commands``: the ``eval`` group (locomo, longmemeval, truth).

Importing the command modules registers their commands on ``app``; the help page lists them in
that order, so ``memory_commands`` is imported first, then ``graph_commands``, then the rest.
"""

# isort: off
from . import eval_commands, memory_commands  # noqa: F401  (they register the commands)
from . import graph_commands  # noqa: F401
from . import memory_upkeep, reembed_command, server_commands  # noqa: F401

# isort: on
from .common import _cli_words, app

__all__ = ["_cli_words", "app", "main"]


def main() -> None:
    """Console entry point."""
    app()
