"""A user's memory as a GraphML graph, for a graph tool (Gephi, yEd, Cytoscape, networkx).

Built from the records of an export (``lifecycle.transfer``), so the graph shows what the file
holds:

- nodes: every entity (``type`` entity, its ``kind`` and mentions); every active fact and event
  (``type`` fact or event, its text and when it was said); and every value a relation points to
  that is no entity (``type`` value: "oslo" in "sam -> lives in -> oslo");
- edges: a unit ``mentions`` each entity it names; an entity (or value) ``relation`` to another,
  labelled as the unit said it, with its validity; a unit ``supersedes`` the one it replaced.

Turns are left out: they are the verbatim record, which the facts and events stand for here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

_NS = "http://graphml.graphdrawing.org/xmlns"
_NODE_KEYS = ("label", "type", "kind", "mentions", "text", "said_at")
_EDGE_KEYS = ("label", "valid_from", "valid_to")
#: Characters XML 1.0 cannot hold, even escaped.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def graphml(records: Iterable[dict[str, Any]]) -> str:
    """The GraphML document of an export's records."""
    root = ET.Element("graphml", xmlns=_NS)
    for name in _NODE_KEYS:
        ET.SubElement(
            root, "key", {"id": f"n_{name}", "for": "node", "attr.name": name, "attr.type": "string"}
        )
    for name in _EDGE_KEYS:
        ET.SubElement(
            root, "key", {"id": f"e_{name}", "for": "edge", "attr.name": name, "attr.type": "string"}
        )
    graph = _Graph(ET.SubElement(root, "graph", id="memory", edgedefault="directed"))
    kept = list(records)
    for record in (r for r in kept if r["type"] == "entity"):
        graph.entity(record)
    units = [
        r for r in kept if r["type"] == "unit" and r["kind"] in ("fact", "event") and r["status"] == "active"
    ]
    for unit in units:
        graph.unit(unit)
    for unit in units:
        graph.supersessions(unit)
    for record in (r for r in kept if r["type"] == "relation"):
        graph.relation(record)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


class _Graph:
    """The ``graph`` element being filled, with the nodes made so far."""

    def __init__(self, element: ET.Element) -> None:
        self.element = element
        self.nodes: set[str] = set()
        self.canonical: dict[str, str] = {}  # an entity key or alias -> its node id

    def entity(self, record: dict[str, Any]) -> None:
        node = f"entity:{record['key']}"
        for key in (record["key"], *record["aliases"]):
            self.canonical[key] = node
        self.node(
            node, label=record["name"], type="entity", kind=record["kind"], mentions=str(record["mentions"])
        )

    def unit(self, unit: dict[str, Any]) -> None:
        node = f"unit:{unit['id']}"
        said = unit["occurred_at"] or unit["recorded_at"]
        self.node(node, label=unit["text"][:60], type=unit["kind"], text=unit["text"], said_at=said)
        for key in unit["entities"]:
            if key in self.canonical:
                self.edge(node, self.canonical[key], label="mentions")

    def supersessions(self, unit: dict[str, Any]) -> None:
        replaced = unit["metadata"].get("supersedes")
        for old in [replaced] if isinstance(replaced, str) else replaced or []:
            if f"unit:{old}" in self.nodes:
                self.edge(f"unit:{unit['id']}", f"unit:{old}", label="supersedes")

    def relation(self, record: dict[str, Any]) -> None:
        ends = []
        for value in (record["subject"], record["object"]):
            node = self.canonical.get(value) or f"value:{value}"
            self.node(node, label=value, type="value")
            ends.append(node)
        self.edge(
            *ends, label=record["relation"], valid_from=record["valid_from"], valid_to=record["valid_to"]
        )

    def node(self, node_id: str, **data: str | None) -> None:
        if node_id not in self.nodes:
            self.nodes.add(node_id)
            _data(ET.SubElement(self.element, "node", id=node_id), "n", data)

    def edge(self, source: str, target: str, **data: str | None) -> None:
        _data(ET.SubElement(self.element, "edge", source=source, target=target), "e", data)


def _data(element: ET.Element, prefix: str, data: dict[str, str | None]) -> None:
    for name, value in data.items():
        if value is not None:
            ET.SubElement(element, "data", key=f"{prefix}_{name}").text = _NOT_XML.sub("", value)
