"""Pass 1's accepted rows, kept in an anonymous temporary file for pass 2.

Rows are read, parsed and validated once: pass 2 writes what pass 1 spooled, in the order it
accepted them (rows referring forward come at the end of their file, as validation accepted
them), and never reads the input again, so an input file edited between the passes cannot slip
unvalidated rows in. Memory stays flat: rows go to disk in pickled chunks. The file is private to
this process and removed when closed.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

from pboss.inventory.model import Edge, Element, from_stored
from pboss.inventory.rows import EdgeRow, NodeRow

_CHUNK = 2000


class SpooledRow(NamedTuple):
    """One accepted input row: where it was, and what it writes by which path.

    `new_nodes` and `new_edges` take the bulk path (`GraphStore.insert_new`): nodes the store did
    not hold at validation and edges leaving them. `nodes` and `edges` go through `upsert`.
    """

    where: str
    new_nodes: list[NodeRow]
    new_edges: list[EdgeRow]
    nodes: list[Element]
    edges: list[Edge]


#: An edge as pass 1 spools it: (type, src, dst, props), a plain tuple, because pickle writes
#: plain tuples in C while a named one calls back into Python for every edge; pass 2, where Python
#: mostly waits for the database, makes them EdgeRows again.
PlainEdge = tuple[str, str, str, dict[str, Any]]
_Plain = tuple[str, list[NodeRow], list[PlainEdge], list[NodeRow], list[PlainEdge]]


class RowSink(Protocol):
    """Where pass 1 puts each accepted row: the spool, or the bulk importer's CSV files."""

    def add(
        self,
        where: str,
        new_nodes: list[NodeRow],
        new_edges: list[PlainEdge],
        nodes: list[NodeRow],
        edges: list[PlainEdge],
    ) -> None:
        """Take one accepted row (see `Spool.add`)."""
        ...


class Spool:
    """An append-then-replay store of spooled rows on disk."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="pboss-load-")  # noqa: SIM115 (closed by close)
        self._pending: list[_Plain] = []

    def add(
        self,
        where: str,
        new_nodes: list[NodeRow],
        new_edges: list[PlainEdge],
        nodes: list[NodeRow],
        edges: list[PlainEdge],
    ) -> None:
        """Append one accepted row: the fields of a SpooledRow as plain data (pass 2 builds the
        EdgeRows, and the Elements and Edges that go through `upsert`, from it)."""
        self._pending.append((where, new_nodes, new_edges, nodes, edges))
        if len(self._pending) >= _CHUNK:
            self._dump()

    def _dump(self) -> None:
        if self._pending:
            pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def size(self) -> int:
        """Bytes on disk once everything added is written (what `replay` reports progress in)."""
        self._dump()
        self._file.flush()
        return self._file.seek(0, 2)

    def replay(self, on_bytes: Callable[[int], None] | None = None) -> Iterator[SpooledRow]:
        """Every spooled row, in the order added; `on_bytes` hears of each chunk read."""
        self._dump()
        self._file.flush()
        self._file.seek(0)
        at = 0
        while True:
            try:
                chunk: list[_Plain] = pickle.load(self._file)
            except EOFError:
                return
            if on_bytes is not None:
                on_bytes(self._file.tell() - at)
                at = self._file.tell()
            for where, new_nodes, new_edges, nodes, edges in chunk:
                yield SpooledRow(
                    where,
                    new_nodes,
                    [EdgeRow(*e) for e in new_edges],
                    [from_stored(props) for props in nodes],  # validated by pass 1
                    [Edge.from_props(*e) for e in edges],
                )

    def close(self) -> None:
        """Remove the file."""
        self._file.close()
