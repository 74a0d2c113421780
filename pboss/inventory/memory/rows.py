"""The embedded store's elements and history entries kept as packed rows, typed on access.

Why: a pydantic element costs about a kilobyte and four objects the cyclic GC walks (the model,
its field dict, its set of fields set, its attrs); `medium` has half a million of them. A row is
one tuple of the element's field values in its class's field order (kind first, lists as tuples,
empty attrs as None): a fifth of the memory, no GC work once its values are plain, and what the
snapshot (`snapshot.py`) writes and reads without building a model. Every write validated the
element it stored, so `element` rebuilds it the way pydantic's `model_copy(update=...)` of a
template does, without validating again; each call gives a fresh element (its lists and attrs
its own), so a caller may change it without changing the store.

History entries are packed as Neo4j keeps them (`history.to_row`: before/after as JSON text),
so an entry reads the same on both stores and after a restart.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import datetime
from sys import intern
from typing import Any

from pboss.inventory import history
from pboss.inventory.model import KINDS, Element
from pboss.inventory.results import ChangeRecord

#: (kind, field values in the class's field order...): lists as tuples, empty attrs as None
Row = tuple[Any, ...]
#: a history entry as `history.to_row` stores it, in HISTORY_FIELDS order
HistoryRow = tuple[Any, ...]

HISTORY_FIELDS = (
    "element_id",
    "from_status",
    "to_status",
    "actor",
    "reason",
    "at",
    "change",
    "before",
    "after",
    "edge_type",
    "edge_src",
    "edge_dst",
)
H_ELEMENT, H_ACTOR, H_REASON, H_AT, H_EDGE_SRC = 0, 3, 4, 5, 11


class Shape:
    """One kind's field names (in order), where each sits in a row, and a template to copy."""

    __slots__ = ("attrs_at", "cls", "index", "names", "template")

    def __init__(self, cls: type[Element]) -> None:
        self.cls = cls
        self.names: tuple[str, ...] = tuple(cls.model_fields)
        self.index = {name: i + 1 for i, name in enumerate(self.names)}
        self.attrs_at = self.index["attrs"]
        placeholders = {name: None for name in self.names}
        self.template = cls.model_construct(set(), **placeholders)


_SHAPES: dict[str, Shape] = {}


def shape_of(kind: str) -> Shape:
    """The shape of a registered kind (kinds register late, so shapes are made on first use)."""
    shape = _SHAPES.get(kind)
    if shape is None or shape.cls is not KINDS[kind]:
        shape = _SHAPES[kind] = Shape(KINDS[kind])
    return shape


def _frozen(value: Any) -> Any:
    """A field value as a row keeps it: lists become tuples (so the row is immutable), and
    short text is interned (sites, specs, owners repeat on thousands of rows: one object)."""
    if isinstance(value, str):  # an enum member left as one becomes its plain text
        value = str.__str__(value)
        return intern(value) if len(value) <= 64 else value
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def pack(el: Element) -> Row:
    """The row of a (validated) element."""
    shape = shape_of(el.kind)
    values: list[Any] = [el.kind]
    for name in shape.names:
        value = getattr(el, name)
        if name == "attrs":
            value = tuple((k, _frozen(v)) for k, v in value.items()) or None
        values.append(_frozen(value))
    return tuple(values)


def unpack(row: Row) -> Element:
    """A fresh element from its row (not validated again: it was when written)."""
    shape = shape_of(row[0])
    data = {}
    for name, value in zip(shape.names, row[1:], strict=True):
        data[name] = list(value) if type(value) is tuple else value
    attrs = row[shape.attrs_at]
    data["attrs"] = {k: list(v) if type(v) is tuple else v for k, v in attrs} if attrs else {}
    return shape.template.model_copy(update=data)


def value_of(row: Row, name: str) -> Any:
    """One field of a row without building the element (None when the kind has no such field)."""
    at = shape_of(row[0]).index.get(name)
    if at is None:
        return None
    value = row[at]
    return list(value) if type(value) is tuple else value


def row_of(graph: Any, node_id: Hashable) -> Row:
    """The row of a node of the store's graph."""
    return graph.nodes[node_id]["row"]  # type: ignore[no-any-return]


def element(graph: Any, node_id: Hashable) -> Element:
    """A fresh element of a node of the store's graph."""
    return unpack(graph.nodes[node_id]["row"])


def kind_of(graph: Any, node_id: Hashable) -> str:
    """The kind of a node of the store's graph, without building the element."""
    return graph.nodes[node_id]["row"][0]  # type: ignore[no-any-return]


def pack_entry(entry: ChangeRecord) -> HistoryRow:
    """A history entry as a row (before/after as JSON text, as Neo4j keeps them)."""
    props: Mapping[str, Any] = history.to_row(entry, 0)
    return tuple(props.get(name) for name in HISTORY_FIELDS)


def unpack_entry(row: HistoryRow) -> ChangeRecord:
    """The history entry of a row."""
    props = dict(zip(HISTORY_FIELDS, row, strict=True))
    at: datetime = props.pop("at")
    return history.from_row(props, at)
