"""The commands that read who and what memory mentions, one per ``Memory`` method: entities,
entity, related, profile and summary."""

from __future__ import annotations

from typing import Annotated, cast

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..api import DEFAULT_ENTITY_LIMIT, DEFAULT_SUMMARY_BUDGET
from ..model import (
    ENTITY_KINDS,
    Entity,
    EntityCard,
    EntityKind,
    Link,
    MemoryUnit,
    Profile,
    Relation,
    Summary,
)
from .common import Run, _command, _day, _said, err, out
from .options import UnitIdArgument, UserOption, _one_of


@_command()
def entities(
    run: Run,
    user: UserOption = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            metavar="KIND",
            callback=_one_of(ENTITY_KINDS),
            help=f"Only entities of this kind: {', '.join(ENTITY_KINDS)}.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(help="How many entities (the most mentioned).")
    ] = DEFAULT_ENTITY_LIMIT,
) -> None:
    """List the people, pets, places and organisations a user's memory mentions, most mentioned first."""
    with run.open() as memory:
        found = memory.entities(user_id=user, kind=cast("EntityKind | None", kind), limit=limit)
    run.show(
        found,
        lambda listed: out.print(_entities_table(listed) if listed else "no entities mentioned yet"),
    )


def _entities_table(found: list[Entity]) -> Table:
    """Entities readable at 80 columns: each name with its aliases under it (a column of its own
    would leave the names a dozen characters), dates never cut."""
    table = Table()
    table.add_column("name", overflow="fold", ratio=1)
    table.add_column("kind")
    table.add_column("mentions", justify="right")
    table.add_column("first", no_wrap=True)
    table.add_column("last", no_wrap=True)
    for e in found:
        name = Text(e.name)
        if e.aliases:
            name.append(f"\nalso: {', '.join(e.aliases)}", style="dim")
        table.add_row(name, e.kind, str(e.mentions), _day(e.first_mentioned), _day(e.last_mentioned))
    return table


@_command()
def entity(
    run: Run,
    name: Annotated[str, typer.Argument(help="An entity's name, key or alias, in any case (see entities).")],
    user: UserOption = None,
) -> None:
    """Show what memory holds about one entity: the memories that mention it, and their relations.

    Current facts come first, then events, then what no longer holds (marked past); then the
    relations those memories state, and the entities mentioned with it most often.
    """
    with run.open() as memory:
        card = memory.entity(name, user_id=user)
    run.show(card, _print_card)


def _print_card(card: EntityCard) -> None:
    """The card as lines: a header, the units (what no longer holds marked past), the relations,
    the names mentioned with it."""
    e = card.entity
    header = Text(e.name, style="bold")
    header.append(f"  {e.kind}, {e.mentions} mention{'s' if e.mentions != 1 else ''}")
    header.append(f", {_day(e.first_mentioned)} to {_day(e.last_mentioned)}", style="dim")
    out.print(header)
    if e.aliases:
        out.print(Text(f"also: {', '.join(e.aliases)}"))
    units = Table.grid(padding=(0, 2))
    units.add_column("when", no_wrap=True)
    units.add_column("memory", overflow="fold", ratio=1)
    for unit in card.units:
        units.add_row(_day(unit.occurred_at or unit.valid_from or unit.recorded_at), _unit_cell(unit))
    out.print()
    out.print(units)
    if card.relations:
        out.print("\n[bold]relations[/bold]")
        for relation in card.relations:
            out.print(_relation_line(relation))
    if card.related:
        out.print(Text("\nmentioned with: ", style="bold").append(", ".join(card.related), style="not bold"))


def _unit_cell(unit: MemoryUnit) -> Text:
    """One unit of a card: its text (a past one says until when), and under it its kind and id,
    to copy into show or related."""
    cell = Text()
    if unit.valid_to is not None:
        cell.append(f"(past, until {_day(unit.valid_to)}) ", style="yellow")
    cell.append_text(_said(unit))
    cell.append(f"\n{unit.kind} {unit.id}", style="dim")
    return cell


def _relation_line(relation: Relation) -> Text:
    line = Text(f"{relation.subject} → {relation.relation} → {relation.object}")
    if relation.valid_to is not None:
        line.append(f" (past, until {_day(relation.valid_to)})", style="yellow")
    line.append(f"  {relation.unit_id}", style="dim")
    return line


@_command()
def related(run: Run, unit_id: UnitIdArgument, user: UserOption = None) -> None:
    """List the memories linked to one unit: its sources, what came from it, what it replaced.

    Links: derived_from (a turn it was drawn from), derived (a fact or event drawn from it),
    supersedes and superseded_by (what it replaced, what replaced it), same_entity (a memory that
    mentions an entity it mentions, named under via).
    """
    with run.open() as memory:
        links = memory.related(unit_id, user_id=user)
    run.show(links, lambda found: _print_links(found, unit_id))


def _print_links(links: list[Link], unit_id: str) -> None:
    """The links as a table, or a line saying that there are none."""
    if links:
        out.print(_links_table(links))
    else:
        out.print(f"nothing is linked to {escape(unit_id)}", highlight=False)


def _links_table(links: list[Link]) -> Table:
    """Links readable at 80 columns: how each unit is linked, through what, its id whole."""
    table = Table()
    table.add_column("link", no_wrap=True)
    table.add_column("via", overflow="fold")
    table.add_column("id", no_wrap=True)  # whole, to copy into show or related
    table.add_column("text", overflow="fold", ratio=1)
    for link in links:
        table.add_row(link.kind, Text(link.via or ""), link.unit.id, _said(link.unit))
    return table


@_command()
def profile(
    run: Run,
    user: UserOption = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Whose profile: a name, key or alias (default: the one who speaks as the user)."
        ),
    ] = None,
) -> None:
    """Show who a person is as memory holds it now: attributes, relationships, preferences, activities.

    Each line quotes one current memory, with the day it was said and its id (to copy into show or
    related); what was superseded, corrected or deleted never appears. Without --name, the person
    who speaks as the user.
    """
    with run.open() as memory:
        found = memory.profile(user_id=user, name=name)
    run.show(found, _print_profile)


def _print_profile(found: Profile) -> None:
    """The profile as headed lists, one per section that has lines, and its size on stderr."""
    e = found.entity
    header = Text(e.name, style="bold")
    header.append(f"  {e.kind}, {e.mentions} mention{'s' if e.mentions != 1 else ''}")
    header.append(f", {_day(e.first_mentioned)} to {_day(e.last_mentioned)}", style="dim")
    out.print(header)
    if not found.lines:
        out.print(Text(f"memory holds nothing current that says who {e.name} is"))
    for section in dict.fromkeys(line.section for line in found.lines):
        lines = Table.grid(padding=(0, 2))
        lines.add_column("when", no_wrap=True)
        lines.add_column("memory", overflow="fold", ratio=1)
        for line in found.lines:
            if line.section == section:
                lines.add_row(_day(line.said_at), Text(line.text).append(f"\n{line.unit_id}", style="dim"))
        out.print(f"\n[bold]{section}[/bold]")
        out.print(lines)
    err.print(f"[dim]{found.tokens} tokens[/dim]")


@_command()
def summary(
    run: Run,
    session: Annotated[str, typer.Argument(metavar="SESSION_ID", help="A session id (see list --json).")],
    user: UserOption = None,
    budget: Annotated[
        int, typer.Option(help="The most tokens the summary may take.")
    ] = DEFAULT_SUMMARY_BUDGET,
) -> None:
    """Summarise one session: its most central current facts and events, in the order they were said.

    The statements are quoted as memory holds them now, under their day, within the token budget;
    the line after says how many tokens it took and which memories it quotes.
    """
    with run.open() as memory:
        found = memory.summary(session, user_id=user, budget_tokens=budget)
    run.show(found, _print_summary)


def _print_summary(found: Summary) -> None:
    """The summary's text, ready for a prompt, on stdout; its size and the units it quotes on stderr."""
    if found.text:
        out.print(found.text, markup=False, highlight=False)
    else:
        out.print(
            f"session {escape(found.session_id)} has no current fact or event that fits in "
            f"{found.budget_tokens} tokens",
            highlight=False,
        )
    quoted = f": {', '.join(found.unit_ids)}" if found.unit_ids else ""
    err.print(
        f"[dim]{found.tokens}/{found.budget_tokens} tokens, {len(found.unit_ids)} units quoted"
        f"{escape(quoted)}[/dim]",
        highlight=False,
        soft_wrap=True,
    )
