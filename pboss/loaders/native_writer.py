"""Write a native interchange bundle row by row (export and the generator share it).

Each kind and edge type gets its own NDJSON file, opened on first use and buffered; nothing but
the row counts is kept in memory. `close()` writes the manifest last, so a bundle without one is
visibly incomplete.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from pboss.loaders import jsonio
from pboss.loaders.issues import LoadError
from pboss.loaders.native import (
    EDGE_DIR,
    FORMAT,
    MANIFEST,
    NODE_DIR,
    SUFFIX,
    VERSION,
    edge_types_in_order,
    node_kinds_in_order,
)

_BUFFER = 1 << 20


def prepare_directory(directory: Path, overwrite: bool) -> None:
    """Create the bundle directory; refuse a non-empty one unless overwriting (then clear ours)."""
    if directory.exists() and not directory.is_dir():
        raise LoadError(f"{directory}: exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    ours = [directory / MANIFEST]
    for sub in (NODE_DIR, EDGE_DIR):
        ours += list((directory / sub).glob(f"*{SUFFIX}"))
    present = [p for p in ours if p.exists()]
    if present and not overwrite:
        raise LoadError(f"{directory}: already holds a bundle; pass --force to replace it")
    for p in present:
        p.unlink()


class BundleWriter:
    """Appends node and edge rows to a bundle's per-kind files and writes the manifest at close."""

    def __init__(
        self, directory: Path, *, meta: Mapping[str, Any] | None = None, overwrite: bool = False
    ):
        prepare_directory(directory, overwrite)
        self.directory = directory
        self.meta = dict(meta or {})
        self._files: dict[tuple[str, str], IO[bytes]] = {}
        self.rows: dict[tuple[str, str], int] = {}
        self.closed = False

    def _out(self, sub: str, name: str) -> IO[bytes]:
        """The open file for a kind or type, created on first use."""
        key = (sub, name)
        fh = self._files.get(key)
        if fh is None:
            (self.directory / sub).mkdir(exist_ok=True)
            fh = (self.directory / sub / f"{name}{SUFFIX}").open("wb", buffering=_BUFFER)
            self._files[key] = fh
            self.rows[key] = 0
        return fh

    def node(self, row: Mapping[str, Any]) -> None:
        """Append one node: flat properties with at least `id` and `kind`."""
        self._out(NODE_DIR, row["kind"]).write(jsonio.dumps(row) + b"\n")
        self.rows[(NODE_DIR, row["kind"])] += 1

    def edge(self, etype: str, row: Mapping[str, Any]) -> None:
        """Append one edge of `etype`: `src`, `dst`, then its flat properties (seq, slots...)."""
        self._out(EDGE_DIR, etype).write(jsonio.dumps(row) + b"\n")
        self.rows[(EDGE_DIR, etype)] += 1

    def close(self) -> dict[str, int]:
        """Flush every file and write the manifest (once); returns rows per kind and edge type."""
        if self.closed:
            return {name: n for (_, name), n in self.rows.items()}
        self.closed = True
        for fh in self._files.values():
            fh.close()
        kinds = node_kinds_in_order()
        types = edge_types_in_order()

        def order(key: tuple[str, str]) -> tuple[int, int, str]:
            """Manifest order: node files in load order, then edge files."""
            sub, name = key
            names = kinds if sub == NODE_DIR else types
            rank = names.index(name) if name in names else len(names)
            return (0 if sub == NODE_DIR else 1, rank, name)

        entries = []
        for key in sorted(self.rows, key=order):
            sub, name = key
            entry: dict[str, Any] = {"path": f"{sub}/{name}{SUFFIX}", "rows": self.rows[key]}
            entry["kind" if sub == NODE_DIR else "type"] = name
            entries.append(entry)
        manifest = {"format": FORMAT, "version": VERSION, **self.meta, "files": entries}
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (self.directory / MANIFEST).write_text(text, encoding="utf-8")
        self._files.clear()
        return {name: n for (_, name), n in self.rows.items()}

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            for fh in self._files.values():
                fh.close()
