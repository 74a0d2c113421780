"""Input records, the unit every loader source yields, and their parsing into model objects.

A record is one input row (a native NDJSON line or a partner-feed CSV row): the nodes and edges it
declares as model-input mappings, the issues found while reading it, and enough of the original
text to point at a column and to write it to a rejects file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from pboss.inventory.catalog import Catalog
from pboss.inventory.errors import Issue
from pboss.inventory.model import Edge, Element, parse_edge, parse_node
from pboss.loaders.index import tag_of
from pboss.loaders.issues import RowIssue

Key = tuple[int, int]


@lru_cache(maxsize=256)
def _key_pattern(name: str) -> re.Pattern[str]:
    """The compiled pattern of a JSON key (few distinct keys, so cached)."""
    return re.compile(r'"' + re.escape(name) + r'"\s*:')


def json_key_column(text: str, name: str | None) -> int:
    """The 1-based column of `"name":` in a JSON line (1 when absent): where a field's error is."""
    if name is None:
        return 1
    match = _key_pattern(name).search(text)
    if match is None:  # a key with characters JSON escapes (a NUL, a quote): find it escaped
        for spelt in (json.dumps(name, ensure_ascii=False), json.dumps(name)):
            at = text.find(spelt)
            if at >= 0:
                return at + 1
    return match.start() + 1 if match else 1


def field_of(issue_field: str | None) -> str | None:
    """The input key a model issue is about: `attrs.x` is the flat key `x`, `slots.2` is `slots`."""
    if not issue_field:
        return None
    parts = issue_field.split(".")
    if parts[0] == "attrs" and len(parts) > 1:
        return parts[1]
    return parts[0]


@dataclass(slots=True)
class Record:
    """One input row: what it declares (model-input mappings), where it is, and its read issues.

    A record with read issues is never parsed; its `nodes` then only tell which ids it meant to
    define, so that rows depending on them are reported as such.
    """

    source: int
    file: str
    line: int
    text: str
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    columns: dict[str, int] | None = None

    @property
    def key(self) -> Key:
        """The record's identity within one load: (file index, line)."""
        return (self.source, self.line)

    def column(self, name: str | None) -> int:
        """The column an issue about input field `name` points at."""
        if self.columns is not None:
            return self.columns.get(name or "", self.columns.get("*", 1))
        return json_key_column(self.text, name)

    def issue(self, reason: str, name: str | None = None) -> RowIssue:
        """A located issue about this record's field `name`."""
        return RowIssue(self.file, self.line, self.column(name), reason, name)


class NodeFacts(NamedTuple):
    """What a load needs of a validated node: the facts its checks read and its properties."""

    id: str
    kind: str
    tag: str
    site: str | None
    owner: str
    status: str
    props: dict[str, Any]

    @classmethod
    def of(cls, node: Element) -> NodeFacts:
        """The facts of a node built by the model (specs applied)."""
        return cls(
            node.id, node.kind, tag_of(node), node.site, node.owner, node.status, node.props()
        )


class EdgeFacts(NamedTuple):
    """What a load needs of a validated edge: the facts its checks read and its properties."""

    type: str
    src: str
    dst: str
    seq: int | None
    slots: list[int] | None
    props: dict[str, Any]

    @classmethod
    def of(cls, edge: Edge) -> EdgeFacts:
        """The facts of an edge built by the model."""
        return cls(edge.type, edge.src, edge.dst, edge.seq, edge.slots, edge.props())


@dataclass(slots=True)
class Parsed:
    """A record's nodes and edges as validated by the model and the catalog (specs applied),
    reduced to facts and properties, or the issues that prevent them."""

    nodes: list[NodeFacts]
    edges: list[EdgeFacts]
    issues: list[RowIssue]


def _located(rec: Record, issues: Sequence[Issue]) -> list[RowIssue]:
    """Model issues as located row issues (field -> column)."""
    return [rec.issue(i.reason, field_of(i.field)) for i in issues]


def parse_record(rec: Record, catalog: Catalog) -> Parsed:
    """Build the record's nodes and edges against the model and the catalog."""
    if rec.issues:
        return Parsed([], [], list(rec.issues))
    nodes: list[NodeFacts] = []
    edges: list[EdgeFacts] = []
    issues: list[RowIssue] = []
    for raw in rec.nodes:
        node = parse_node(raw)
        if isinstance(node, list):
            issues += _located(rec, node)
            continue
        spec_issues = catalog.apply_spec(node)
        if spec_issues:
            issues += _located(rec, spec_issues)
            continue
        nodes.append(NodeFacts.of(node))
    for raw in rec.edges:
        edge = parse_edge(raw)
        if isinstance(edge, list):
            issues += _located(rec, edge)
            continue
        edges.append(EdgeFacts.of(edge))
    return Parsed(nodes, edges, issues)
