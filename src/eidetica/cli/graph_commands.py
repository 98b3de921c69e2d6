"""The commands that read who and what memory mentions, one per ``Memory`` method: entities,
entity and related."""

from __future__ import annotations

from typing import Annotated, cast

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..api import DEFAULT_ENTITY_LIMIT
from ..model import ENTITY_KINDS, Entity, EntityCard, EntityKind, Link, MemoryUnit, Relation
from .common import (
    DbOption,
    JsonOption,
    UserOption,
    _day,
    _handled,
    _one_of,
    _open,
    _print_json,
    _said,
    app,
    out,
)


@app.command()
@_handled
def entities(
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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the people, pets, places and organisations a user's memory mentions, most mentioned first."""
    with _open(db) as memory:
        found = memory.entities(user_id=user, kind=cast("EntityKind | None", kind), limit=limit)
    if as_json:
        _print_json(found)
    elif not found:
        out.print("no entities mentioned yet")
    else:
        out.print(_entities_table(found))


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


@app.command()
@_handled
def entity(
    name: Annotated[str, typer.Argument(help="An entity's name, key or alias, in any case (see entities).")],
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show what memory holds about one entity: the memories that mention it, and their relations.

    Current facts come first, then events, then what no longer holds (marked past); then the
    relations those memories state, and the entities mentioned with it most often.
    """
    with _open(db) as memory:
        card = memory.entity(name, user_id=user)
    if as_json:
        _print_json(card)
    else:
        _print_card(card)


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


@app.command()
@_handled
def related(
    unit_id: Annotated[str, typer.Argument(help="A unit id.")],
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the memories linked to one unit: its sources, what came from it, what it replaced.

    Links: derived_from (a turn it was drawn from), derived (a fact or event drawn from it),
    supersedes and superseded_by (what it replaced, what replaced it), same_entity (a memory that
    mentions an entity it mentions, named under via).
    """
    with _open(db) as memory:
        links = memory.related(unit_id, user_id=user)
    if as_json:
        _print_json(links)
    elif not links:
        out.print(f"nothing is linked to {escape(unit_id)}", highlight=False)
    else:
        out.print(_links_table(links))


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
