"""What `pboss serve` loads at start-up into the store it serves: bundles, then partner feeds.

The embedded store lives inside the server's process, so a separate `pboss load` cannot reach it;
feeds are named to the server instead, two ways (both may be used):

- `PBOSS_LOAD_FEEDS=path.csv:mapping[:encoding],...`: each file through a mapping (a shipped
  name or a TOML file), optionally in another encoding than the mapping's;
- files in `$PBOSS_LOAD_DIR/feeds/<mapping>/*.csv`: the folder names the mapping (a
  `$PBOSS_LOAD_DIR/feeds/<mapping>.toml` beside it, else a shipped mapping of that name).

Every load is atomic, as `pboss load` is: a feed with an invalid row stops the start with the
located issues (LoadRefused), so a server never runs on half a feed. Each load is summed up in one
line (what was read and written per kind, drift) for the server to print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pboss.inventory.store import GraphStore
from pboss.loaders.feeds import FeedSource, load_mapping
from pboss.loaders.issues import LoadError, LoadRefused
from pboss.loaders.loader import Loader, LoadOptions, load_paths
from pboss.loaders.native import is_bundle
from pboss.loaders.report import LoadReport

FEEDS_DIR = "feeds"


@dataclass(frozen=True)
class FeedSpec:
    """One partner feed to load: the file, its mapping (name or path) and an encoding override."""

    path: Path
    mapping: str
    encoding: str | None = None

    def __str__(self) -> str:
        """`path through mapping` (and the encoding when overridden)."""
        enc = f" ({self.encoding})" if self.encoding else ""
        return f"{self.path} through {self.mapping}{enc}"


def parse_feed_specs(text: str) -> list[FeedSpec]:
    """`a.csv:tietong-circuits,b.csv:oriental-cable-coverage:gbk` as specs; LoadError naming the
    entry that is not `path:mapping[:encoding]`."""
    specs = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
            raise LoadError(
                f"PBOSS_LOAD_FEEDS entry {entry!r}: expected path:mapping or path:mapping:encoding"
            )
        encoding = parts[2].strip() if len(parts) == 3 else None
        specs.append(FeedSpec(Path(parts[0].strip()), parts[1].strip(), encoding))
    return specs


def feeds_in_dir(load_dir: Path) -> list[FeedSpec]:
    """The CSV files under `load_dir/feeds/<mapping>/`, by mapping then file name."""
    root = load_dir / FEEDS_DIR
    if not root.is_dir():
        return []
    specs = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        own = root / f"{folder.name}.toml"
        mapping = str(own) if own.is_file() else folder.name
        specs += [FeedSpec(f, mapping) for f in sorted(folder.glob("*.csv")) if f.is_file()]
    return specs


def bundles_in(load_dir: Path) -> list[Path]:
    """The bundle `load_dir` is, or the bundles directly below it (its `feeds/` is not one)."""
    if not load_dir.is_dir():
        raise LoadError(f"{load_dir}: not a directory")
    if is_bundle(load_dir):
        return [load_dir]
    return sorted(p for p in load_dir.iterdir() if p.name != FEEDS_DIR and is_bundle(p))


def load_bundles(store: GraphStore, load_dir: Path) -> tuple[LoadReport | None, str]:
    """Load the bundles of PBOSS_LOAD_DIR (none is fine when it holds feeds); the report and one
    line saying what was loaded."""
    bundles = bundles_in(load_dir)
    if not bundles:
        if feeds_in_dir(load_dir):
            return None, f"{load_dir}: no bundle, feeds only"
        raise LoadError(
            f"{load_dir}: holds no pboss bundle (manifest.json, nodes/ or edges/) and no "
            f"{FEEDS_DIR}/<mapping>/*.csv"
        )
    options = LoadOptions(actor="startup", reason=f"load {load_dir}")
    report = load_paths(store, bundles, options)
    names = ", ".join(str(b) for b in bundles)
    return report, f"loaded bundle(s) {names}: {summary(report)}"


def load_feed(store: GraphStore, spec: FeedSpec) -> tuple[LoadReport, str]:
    """Apply one partner feed (atomic: LoadRefused when a row is invalid); report and summary."""
    mapping = load_mapping(spec.mapping)
    source = FeedSource(mapping, [spec.path], store)
    options = LoadOptions(actor="startup", reason=f"feed {spec.path}", encoding=spec.encoding)
    report = Loader(store, options).run(source)
    if report.refused:
        raise LoadRefused(report.issues, report.validation.issue_count)
    return report, f"applied feed {spec}: {summary(report)}"


def load_feeds(store: GraphStore, specs: Sequence[FeedSpec]) -> list[str]:
    """Apply feeds in order; one summary line each."""
    return [load_feed(store, spec)[1] for spec in specs]


def summary(report: LoadReport) -> str:
    """One line: rows, nodes per kind, edges, what the store did, and drift counts."""
    v = report.validation
    kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(v.nodes_by_kind.items())) or "none"
    edges = sum(v.edges_by_type.values())
    line = f"{v.rows:,} row(s); nodes {kinds}; {edges:,} edge(s)"
    r = report.result
    if r is not None:
        line += (
            f"; written: {r.nodes_added:,} added, {r.nodes_updated:,} updated, "
            f"{r.nodes_unchanged:,} unchanged node(s), {r.edges_added:,} edge(s) added"
        )
    d = report.drift
    if d is not None and (d.nodes or d.edges or d.statuses):
        line += (
            f"; drift: {d.nodes:,} node(s) not in it ({len(d.riders):,} with riders), "
            f"{d.edges:,} edge(s), {len(d.statuses):,} status(es) set by people kept"
        )
    return line
