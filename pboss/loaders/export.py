"""Export a store to the native interchange format: what `pboss load` reads back unchanged.

Rows are streamed kind by kind and type by type, ordered by id, with keys in a fixed order (`id`,
`kind`, then the rest by name; `src`, `dst`, then the rest), so two exports of the same graph are
byte-identical whichever store they come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pboss.inventory.store import GraphStore
from pboss.loaders.native import edge_types_in_order, node_kinds_in_order
from pboss.loaders.native_writer import BundleWriter
from pboss.loaders.progress import NoProgress, Progress


def node_row(props: Mapping[str, Any]) -> dict[str, Any]:
    """A node's properties in export order."""
    row = {"id": props["id"], "kind": props["kind"]}
    row.update((k, props[k]) for k in sorted(props) if k not in row)
    return row


def edge_row(src: str, dst: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """An edge's endpoints and properties in export order."""
    row: dict[str, Any] = {"src": src, "dst": dst}
    row.update((k, props[k]) for k in sorted(props))
    return row


def export_bundle(
    store: GraphStore,
    directory: Path,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write every node and edge of the store as a bundle; returns rows per kind and type."""
    progress = progress or NoProgress()
    progress.phase("export", 0)
    meta = {"exported_from": store.name}
    with BundleWriter(directory, meta=meta, overwrite=overwrite) as out:
        for kind in node_kinds_in_order():
            for props in store.scan_nodes(kind):
                out.node(node_row(props))
                progress.advance(rows=1)
        for etype in edge_types_in_order():
            for src, dst, props in store.scan_edges(etype):
                out.edge(etype, edge_row(src, dst, props))
                progress.advance(rows=1)
        counts = out.close()
    progress.done()
    return counts
