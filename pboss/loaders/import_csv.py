"""Pass 1's accepted rows as the CSV files of Neo4j's bulk importer, written as pass 1 goes.

`CsvSink` takes what the validator spools (`spool.RowSink`) and writes it at once: nodes into one
file per kind with the labels the stores give it (`:Entity:<Category>:<Kind>`), edges into one
file per type, each with a separate header file of typed columns (`id:ID`, `name:string`,
`seq:long`, `slots:long[]`...) written at the end, when every column is known. A row holding a
column with another type than the file's (a free attribute that is a number in one row, text in
another) goes to a second file of the kind. Properties and types are those the transactional
loader stores (`Element.props()`, `Edge.props()`).

What the CSV format cannot say exactly (a text with a line break or a NUL, an empty list, a list
of texts holding the array delimiter or an empty text, an infinite or NaN float) is left out of
the file and kept as a *patch*, set by Cypher after the import, so the graph is the same. The
importer would also take the same edge twice where the transactional loader keeps the later row:
a bit filter over (type, src, dst) finds the keys that may repeat (exact for the first
occurrence; false alarms are rare and only cost a look-up after the import), and their last
properties are kept to put right after the import (`duplicate_candidates`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pboss.inventory.model import KINDS
from pboss.inventory.neo4j.importer import ARRAY_DELIMITER, ImportPlan, InputGroup
from pboss.inventory.rows import NodeRow
from pboss.loaders import jsonio
from pboss.loaders.issues import LoadError
from pboss.loaders.spool import PlainEdge

_BUFFER = 1 << 20
_BLOOM_BITS = 28  # 2^28 bits = 32 MiB: ~0.15% false alarms at 5M edges, two probes per edge
_MASK = (1 << _BLOOM_BITS) - 1
_UNSAFE_TEXT = ("\n", "\r", "\x00")

EdgeKey = tuple[str, str, str]


def _quote(text: str) -> str:
    """A CSV text field: quoted, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def encode(value: Any) -> tuple[str, str] | None:
    """(the importer's type, the field) of a property value, or None when CSV cannot carry it
    exactly (it is then patched in after the import)."""
    if type(value) is str:  # the common case first, without a generator per value
        if "\n" in value or "\r" in value or "\x00" in value:
            return None
        return "string", (_quote(value) if '"' in value else f'"{value}"')
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        return "long", str(value)
    if isinstance(value, float):
        return ("double", repr(value)) if math.isfinite(value) else None
    if isinstance(value, str):  # a str subclass
        if any(c in value for c in _UNSAFE_TEXT):
            return None
        return "string", _quote(value)
    if isinstance(value, list) and value:
        if all(isinstance(v, bool) for v in value):
            return "boolean[]", ARRAY_DELIMITER.join("true" if v else "false" for v in value)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "long[]", ARRAY_DELIMITER.join(str(v) for v in value)
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            if not all(math.isfinite(v) for v in value):
                return None
            return "double[]", ARRAY_DELIMITER.join(repr(float(v)) for v in value)
        if all(isinstance(v, str) for v in value):
            if any(
                not v or ARRAY_DELIMITER in v or any(c in v for c in _UNSAFE_TEXT) for v in value
            ):
                return None
            return "string[]", _quote(ARRAY_DELIMITER.join(value))
    return None


def _id_field(value: str, what: str) -> str:
    """An id as an `:ID`, `:START_ID` or `:END_ID` field; LoadError if CSV cannot carry it."""
    if any(c in value for c in _UNSAFE_TEXT):
        raise LoadError(
            f"{what} {value!r}: an id with a line break or NUL cannot go through the bulk "
            "importer; load this bundle with `pboss load`"
        )
    return _quote(value)


@dataclass
class _Table:
    """One data file and its header: the columns in order, each with one type."""

    names: tuple[str, ...]
    data: Path
    header: Path
    fixed: list[str]
    columns: dict[str, tuple[int, str]] = field(default_factory=dict)
    rows: int = 0
    out: IO[str] | None = None

    def fits(self, typed: list[tuple[str, str, str]]) -> bool:
        """True when no column of the row has another type here."""
        cols = self.columns
        return all(cols.get(k, (0, t))[1] == t for k, t, _ in typed)

    def write(self, lead: str, typed: list[tuple[str, str, str]]) -> None:
        """Append one row: the fixed fields, then each column's field (empty when not set)."""
        cols = self.columns
        fields = [""] * (len(cols) + len(typed))
        width = 0
        for key, ctype, text in typed:
            at = cols.get(key)
            if at is None:
                at = cols[key] = (len(cols), ctype)
            fields[at[0]] = text
            width = max(width, at[0] + 1)
        if self.out is None:
            self.out = self.data.open("w", encoding="utf-8", newline="\n", buffering=_BUFFER)
        line = f"{lead},{','.join(fields[:width])}\n" if width else f"{lead}\n"
        self.out.write(line)
        self.rows += 1

    def close(self) -> InputGroup:
        """Close the data file and write the header; the importer's group for both."""
        if self.out is not None:
            self.out.close()
        cols = sorted(self.columns.items(), key=lambda kv: kv[1][0])
        header = self.fixed + [f"{key}:{ctype}" for key, (_, ctype) in cols]
        self.header.write_text(",".join(_header_name(h) for h in header) + "\n", encoding="utf-8")
        return InputGroup(self.names, self.header, self.data)


def _header_name(name: str) -> str:
    """A header entry, quoted when the key holds a delimiter, quote or colon of its own."""
    key, _, ctype = name.rpartition(":")
    if not key or not any(c in key for c in ',":'):
        return name
    return _quote(f"{key}:{ctype}")


@dataclass
class Written:
    """What the sink wrote: the import plan, rows per kind and type, and what to patch after."""

    plan: ImportPlan
    nodes_by_kind: dict[str, int]
    edges_by_type: dict[str, int]
    patches: Path
    patch_count: int
    duplicate_candidates: dict[EdgeKey, dict[str, Any]]
    seconds: float


class CsvSink:
    """Receives pass 1's accepted rows (as `Spool.add` does) and writes the importer's files."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._nodes: dict[str, list[_Table]] = {}
        self._edges: dict[str, list[_Table]] = {}
        self._patches_path = directory / "patches.ndjson"
        self._patches = self._patches_path.open("wb", buffering=_BUFFER)
        self.patch_count = 0
        self._bloom = bytearray(1 << (_BLOOM_BITS - 3))
        self.candidates: dict[EdgeKey, dict[str, Any]] = {}
        self.seconds = 0.0
        self.nodes_by_kind: dict[str, int] = {}
        self.edges_by_type: dict[str, int] = {}

    # ---- the validator's sink --------------------------------------------------------------------

    def add(
        self,
        where: str,
        new_nodes: list[NodeRow],
        new_edges: list[PlainEdge],
        nodes: list[NodeRow],
        edges: list[PlainEdge],
    ) -> None:
        """Write one accepted row's nodes and edges (all new: the database is empty)."""
        t = time.perf_counter()
        for n in new_nodes:
            self._node(n)
        for n in nodes:
            self._node(n)
        for e in new_edges:
            self._edge(e)
        for e in edges:
            self._edge(e)
        self.seconds += time.perf_counter() - t

    # ---- rows ------------------------------------------------------------------------------------

    def _typed(
        self, props: dict[str, Any], skip: tuple[str, ...]
    ) -> tuple[list[tuple[str, str, str]], dict[str, Any]]:
        """The row's (key, type, field) for CSV, and what must be patched in after."""
        typed: list[tuple[str, str, str]] = []
        later: dict[str, Any] = {}
        for key, value in props.items():
            if key in skip:
                continue
            got = encode(value)
            if got is None:
                later[key] = value
            else:
                typed.append((key, got[0], got[1]))
        return typed, later

    def _table(
        self,
        tables: dict[str, list[_Table]],
        name: str,
        typed: list[tuple[str, str, str]],
        is_edge: bool,
    ) -> _Table:
        """The first file of this kind or type whose column types fit the row, or a new one."""
        mine = tables.setdefault(name, [])
        for table in mine:
            if table.fits(typed):
                return table
        n = len(mine)
        stem = f"{'edges' if is_edge else 'nodes'}-{name}-{n}"
        if is_edge:
            names, fixed = (name,), [":START_ID", ":END_ID"]
        else:
            cls = KINDS[name]
            names, fixed = ("Entity", str(cls.category.value), name), ["id:ID"]
        table = _Table(
            names, self.directory / f"{stem}.csv", self.directory / f"{stem}.header.csv", fixed
        )
        mine.append(table)
        return table

    def _node(self, props: NodeRow) -> None:
        kind = props["kind"]
        typed, later = self._typed(props, ("id",))
        nid = props["id"]
        self._table(self._nodes, kind, typed, False).write(_id_field(nid, f"{kind}"), typed)
        self.nodes_by_kind[kind] = self.nodes_by_kind.get(kind, 0) + 1
        if later:
            self._patch({"node": nid, "props": later})

    def _edge(self, edge: PlainEdge) -> None:
        etype, src, dst, props = edge
        typed, later = self._typed(props, ())
        lead = f"{_id_field(src, etype + ' src')},{_id_field(dst, etype + ' dst')}"
        self._table(self._edges, etype, typed, True).write(lead, typed)
        self.edges_by_type[etype] = self.edges_by_type.get(etype, 0) + 1
        if later:
            self._patch({"type": etype, "src": src, "dst": dst, "props": later})
        h = hash((etype, src, dst))
        bloom = self._bloom
        a, b = h & _MASK, (h >> _BLOOM_BITS) & _MASK
        seen = (bloom[a >> 3] >> (a & 7)) & 1 and (bloom[b >> 3] >> (b & 7)) & 1
        bloom[a >> 3] |= 1 << (a & 7)
        bloom[b >> 3] |= 1 << (b & 7)
        if seen:  # perhaps the same edge again: the later row's properties win, after import
            self.candidates[(etype, src, dst)] = props

    def _patch(self, row: dict[str, Any]) -> None:
        self._patches.write(jsonio.dumps(row) + b"\n")
        self.patch_count += 1

    def close(self) -> Written:
        """Close every file and write the headers; what was written and the import plan."""
        self._patches.close()
        self._bloom = bytearray()
        plan = ImportPlan(
            nodes=[t.close() for ts in self._nodes.values() for t in ts],
            relationships=[t.close() for ts in self._edges.values() for t in ts],
        )
        return Written(
            plan,
            dict(self.nodes_by_kind),
            dict(self.edges_by_type),
            self._patches_path,
            self.patch_count,
            self.candidates,
            self.seconds,
        )


def read_patches(path: Path) -> Iterator[dict[str, Any]]:
    """The patches a sink kept, in order."""
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield jsonio.loads(line)
