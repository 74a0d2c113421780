"""The embedded store's files in a format that holds plain values only: the snapshot and the
journal's records (`durable.py`).

Why not pickle: a pickle of the live graph rebuilds every pydantic element, every networkx dict
and every history model one Python call at a time (98 s for `medium` on a loaded VM), and loading
one can run code. Here the snapshot holds the store's rows (`rows.py`) as they are in memory:
`marshal` (the standard library's encoder of plain values: None, bools, numbers, text, bytes,
tuples, lists, dicts) decodes them in C, nothing in it can name a class or run code, and no
element is validated again (each was when written). Datetimes, which marshal does not know, are
written as ISO text and read back at the positions where the model has them; listeners and dead
letters (a handful) as their pydantic JSON.

The snapshot file: `MAGIC`, then a header (format, marshal version, lsn), then one section after
another, each `length (8 bytes) | crc32 (4 bytes) | marshal payload`: the kinds' field names, the
node rows in the graph's order, the edges, the history rows, the events, listeners and dead
letters. A snapshot whose kinds' fields differ from the running model's (an upgrade) is read by
field name, each such element validated again.
"""

from __future__ import annotations

import marshal
import struct
import time
import typing
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from sys import intern
from typing import IO, TYPE_CHECKING, Any

import networkx as nx

from pboss.inventory.errors import PbossError
from pboss.inventory.listeners import DeadLetter, Listener
from pboss.inventory.memory.events import Packed
from pboss.inventory.memory.rows import H_AT, HistoryRow, Row, pack, shape_of, unpack, value_of
from pboss.inventory.model import KINDS
from pboss.inventory.results import Rider, Riders, RiderTotals

if TYPE_CHECKING:
    from pboss.inventory.memory.store import MemoryStore

FORMAT = 2
MAGIC = b"PBOSS-EMBEDDED-SNAPSHOT\n"
MARSHAL_VERSION = 4
_HEADER = struct.Struct(">III")  # format, marshal version, reserved
_LSN = struct.Struct(">Q")
_SECTION = struct.Struct(">QI")  # payload length, crc32 of the payload
#: the MemoryStore attributes a snapshot holds (tests/durable checks that none is missing)
STATE = frozenset(
    {"graph", "_history", "_history_of", "_by_kind", "_by_site", "events", "listeners"}
)
#: the MemoryStore attributes that are not its data
TRANSIENT = frozenset({"lock", "catalog", "durable", "_riders_cache", "_entered"})


class SnapshotError(PbossError):
    """A snapshot that cannot be read: damaged, or written in another format."""

    code = "data_dir_error"


# ---- values marshal does not know --------------------------------------------------------------


def _admits_datetime(annotation: Any) -> bool:
    """True when a field's annotation lets a datetime through."""
    if annotation is datetime:
        return True
    return any(_admits_datetime(arg) for arg in typing.get_args(annotation))


_DATETIME_AT: dict[type, tuple[int, ...]] = {}


def _datetime_at(kind: str) -> tuple[int, ...]:
    """The positions in a row of this kind where a datetime may sit (found once per class)."""
    cls = KINDS[kind]
    found = _DATETIME_AT.get(cls)
    if found is None:
        shape = shape_of(kind)
        found = _DATETIME_AT[cls] = tuple(
            shape.index[name]
            for name, info in cls.model_fields.items()
            if _admits_datetime(info.annotation)
        )
    return found


def encode_row(row: Row) -> Row:
    """A row as the files keep it (its datetimes as ISO text)."""
    at = _datetime_at(row[0])
    if not at:
        return row
    out = list(row)
    for i in at:
        if out[i] is not None:
            out[i] = out[i].isoformat()
    return tuple(out)


def decode_row(row: Row) -> Row:
    """A row as the files keep it, back in memory."""
    at = _datetime_at(row[0])
    if not at:
        return row
    out = list(row)
    for i in at:
        if out[i] is not None:
            out[i] = datetime.fromisoformat(out[i])
    return tuple(out)


def encode_entry(entry: HistoryRow) -> HistoryRow:
    """A history row as the files keep it."""
    return (*entry[:H_AT], entry[H_AT].isoformat(), *entry[H_AT + 1 :])


def decode_entry(entry: HistoryRow) -> HistoryRow:
    """A history row back in memory."""
    return (*entry[:H_AT], datetime.fromisoformat(entry[H_AT]), *entry[H_AT + 1 :])


def encode_history_op(op: str, arg: Any) -> tuple[str, Any]:
    """One of a commit's history operations (`durable.Changes`) as a journal keeps it."""
    if op == "add":
        return op, [encode_entry(e) for e in arg]
    ids, actor, reason, since = arg
    return op, (sorted(ids), actor, reason, since.isoformat())


def decode_history_op(op: str, arg: Any) -> tuple[str, Any]:
    """A journal's history operation back in memory."""
    if op == "add":
        return op, [decode_entry(e) for e in arg]
    ids, actor, reason, since = arg
    return op, (set(ids), actor, reason, datetime.fromisoformat(since))


def encode_model(model: Listener | DeadLetter | None) -> str | None:
    """A listener or dead letter as its JSON (None: gone)."""
    return None if model is None else model.model_dump_json()


def decode_listener(text: str | None) -> Listener | None:
    """A listener from its JSON."""
    return None if text is None else Listener.model_validate_json(text)


def decode_dead(text: str | None) -> DeadLetter | None:
    """A dead letter from its JSON."""
    return None if text is None else DeadLetter.model_validate_json(text)


def dumps(value: Any) -> bytes:
    """Plain values as bytes (ValueError on anything else: nothing the loader could not read)."""
    return marshal.dumps(value, MARSHAL_VERSION)


def loads(data: bytes) -> Any:
    """The plain values of `dumps` (the input is checksummed before it gets here)."""
    return marshal.loads(data)


# ---- the snapshot ------------------------------------------------------------------------------


def _sections(store: MemoryStore) -> Iterator[Any]:
    """The snapshot's sections, in order."""
    graph = store.graph
    rows = [encode_row(data["row"]) for _, data in graph.nodes(data=True)]
    yield {kind: shape_of(kind).names for kind in {row[0] for row in rows}}
    yield rows
    yield [(u, v, k, data or None) for u, v, k, data in graph.edges(keys=True, data=True)]
    yield [encode_entry(e) for e in store._history]
    yield [tuple(p) for p in store.events.rows_from(0)]
    kept = store.listeners.__getstate__()
    yield (
        [encode_model(m) for m in kept["listeners"].values()],
        [encode_model(m) for m in kept["dead"].values()],
    )
    yield [
        (list(ids), first, after, _encode_riders(answer), list(reads))
        for (ids, first, after), answer, reads in store._riders_cache.entries()
    ]


def _encode_riders(answer: Riders) -> tuple[Any, ...]:
    """A kept riders answer as plain values (its elements as rows)."""
    items = [
        (
            encode_row(pack(r.service)),
            None if r.customer is None else encode_row(pack(r.customer)),
            r.health,
            r.impaired_by,
        )
        for r in answer.items
    ]
    return answer.resource_ids, answer.totals.model_dump(), items, answer.next_cursor


def _decode_riders(value: tuple[Any, ...]) -> Riders:
    """A kept riders answer back from its plain values."""
    resource_ids, totals, items, cursor = value
    riders = [
        Rider(
            service=unpack(decode_row(service)),
            customer=None if customer is None else unpack(decode_row(customer)),
            health=health,
            impaired_by=impaired_by,
        )
        for service, customer, health, impaired_by in items
    ]
    return Riders(
        resource_ids=resource_ids,
        totals=RiderTotals.model_validate(totals),
        items=riders,
        next_cursor=cursor,
    )


def write(f: IO[bytes], store: MemoryStore, lsn: int) -> None:
    """Write the store's state (the caller holds its lock) and the lsn it is as of."""
    unknown = set(vars(store)) - STATE - TRANSIENT
    if unknown:  # a new attribute must be given a section, or it would be lost on restart
        raise SnapshotError(f"the snapshot does not know the store's {sorted(unknown)}")
    f.write(MAGIC + _HEADER.pack(FORMAT, MARSHAL_VERSION, 0) + _LSN.pack(lsn))
    for section in _sections(store):
        payload = dumps(section)
        f.write(_SECTION.pack(len(payload), zlib.crc32(payload)) + payload)


def _read_sections(f: IO[bytes], path: Path) -> Iterator[Any]:
    while head := f.read(_SECTION.size):
        if len(head) < _SECTION.size:
            raise SnapshotError(f"{path}: cut short in a section header")
        length, crc = _SECTION.unpack(head)
        payload = f.read(length)
        if len(payload) < length or zlib.crc32(payload) != crc:
            raise SnapshotError(f"{path}: a section is damaged (checksum); restore a backup")
        yield loads(payload)


#: seconds each step of the last `read` took (the start-up's breakdown, logged and benchmarked)
last_read: dict[str, float] = {}
#: the same in this process's CPU seconds (what a step costs on a machine shared with others)
last_read_cpu: dict[str, float] = {}


def read(path: Path, store: MemoryStore) -> int:
    """Load a snapshot into an empty store; returns the lsn it is as of. Each section is decoded
    when its turn comes and dropped once applied, so at most one is held besides the store."""
    steps = _Steps()
    with path.open("rb") as f:
        head = f.read(len(MAGIC) + _HEADER.size + _LSN.size)
        if not head.startswith(MAGIC):
            raise SnapshotError(f"{path} is not a pboss embedded-store snapshot")
        fmt, version, _ = _HEADER.unpack_from(head, len(MAGIC))
        if fmt != FORMAT or version != MARSHAL_VERSION:
            expected = f"{FORMAT}/{MARSHAL_VERSION}"
            raise SnapshotError(f"{path}: format {fmt}/{version}, expected {expected}")
        (lsn,) = _LSN.unpack_from(head, len(MAGIC) + _HEADER.size)
        sections = _read_sections(f, path)
        names = next(sections)
        rows = next(sections)
        steps.done("decode nodes")
        _put_nodes(store, names, rows)
        del rows
        steps.done("nodes and indexes")
        edges = next(sections)
        steps.done("decode edges")
        _put_edges(store.graph, edges)
        del edges
        steps.done("edges")
        store.keep_history([decode_entry(e) for e in next(sections)])
        steps.done("history")
        store.events.extend([Packed(*p) for p in next(sections)])
        listeners, dead = next(sections)
        book = store.listeners
        for text in listeners:
            listener = decode_listener(text)
            book.put_listener(listener.id, listener)  # type: ignore[union-attr]
        for text in dead:
            letter = decode_dead(text)
            book.put_dead(letter.id, letter)  # type: ignore[union-attr]
        book.take_touched()
        store.graph.take_touched()
        steps.done("events and listeners")
        for ids, first, after, answer, reads in next(sections):  # dropped if the journal touches
            key = (tuple(ids), first, after)
            store._riders_cache.put(key, _decode_riders(answer), map(intern, reads))
        steps.done("kept riders answers")
    last_read.clear()
    last_read.update(steps.seconds)
    last_read_cpu.clear()
    last_read_cpu.update(steps.cpu)
    return int(lsn)


class _Steps:
    """Seconds per step, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._at, self._cpu_at = time.perf_counter(), time.process_time()

    def done(self, step: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.seconds[step], self.cpu[step] = now - self._at, cpu - self._cpu_at
        self._at, self._cpu_at = now, cpu


def _put_nodes(store: MemoryStore, names: dict[str, tuple[str, ...]], rows: list[Row]) -> None:
    """Add the rows to the graph and the kind and site indexes, in bulk (nothing noted)."""
    graph = store.graph
    by_kind, by_site = store._by_kind, store._by_site
    missing = sorted(set(names) - KINDS.keys())
    if missing:
        raise SnapshotError(f"the snapshot holds kinds this pboss does not know: {missing}")
    changed = {kind for kind, fields in names.items() if shape_of(kind).names != tuple(fields)}
    add_node = nx.MultiDiGraph.add_node  # not RecordingGraph's: a load is no commit to note
    for row in rows:
        kind = row[0]
        row = _upgraded(row, names[kind]) if kind in changed else decode_row(row)
        node_id = intern(value_of(row, "id"))  # one object for the id wherever the graph has it
        add_node(graph, node_id, row=row)
        by_kind.setdefault(kind, set()).add(node_id)
        site = value_of(row, "site")
        if site:
            by_site.setdefault(site, set()).add(node_id)


def _upgraded(row: Row, fields: tuple[str, ...]) -> Row:
    """A row written with other fields than the running model's (an upgrade), validated again
    by name; a field the model no longer has is kept among the attrs."""
    values = (list(v) if type(v) is tuple else v for v in row[1:])
    data = dict(zip(fields, values, strict=True))
    attrs = {k: list(v) if type(v) is tuple else v for k, v in data.pop("attrs", None) or ()}
    known = set(shape_of(row[0]).names)
    attrs |= {k: v for k, v in data.items() if k not in known}
    data = {k: v for k, v in data.items() if k in known}
    data["attrs"] = attrs
    return pack(KINDS[row[0]].model_validate(data))


def _put_edges(graph: nx.MultiDiGraph, edges: list[tuple[Any, ...]]) -> None:
    """Add the edges in bulk (nothing noted)."""
    add_edge = nx.MultiDiGraph.add_edge
    for u, v, k, data in edges:  # the ends interned: the nodes' own id objects, not copies
        if data:
            add_edge(graph, intern(u), intern(v), intern(k), **data)
        else:
            add_edge(graph, intern(u), intern(v), intern(k))
