"""The report of one load: what was read, refused, written, left unchanged, and what drifted."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pboss.inventory.results import UpsertResult
from pboss.loaders.drift import Drift, riders_dict
from pboss.loaders.issues import RowIssue
from pboss.loaders.validate import Validation


@dataclass
class LoadReport:
    """Everything a load did, for the CLI to print and for callers to assert on."""

    files: list[str]
    dry_run: bool
    validation: Validation
    result: UpsertResult | None = None
    drift: Drift | None = None
    rejects_path: Path | None = None
    rejects_written: int = 0
    pruned: list[str] = field(default_factory=list)
    prune_kept: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False

    @property
    def refused(self) -> bool:
        """True when invalid rows stopped the load (atomic mode): nothing was written."""
        return not self.validation.ok and self.result is None and not self.dry_run

    @property
    def issues(self) -> list[RowIssue]:
        """The located issues kept for display (the first ones, up to the validator's limit)."""
        return self.validation.issues

    @property
    def elements(self) -> int:
        """Nodes and edges in the feed that passed validation."""
        v = self.validation
        return sum(v.nodes_by_kind.values()) + sum(v.edges_by_type.values())

    def rate(self) -> float:
        """Valid elements per second over the whole load."""
        total = sum(self.seconds.values())
        return self.elements / total if total else 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (for --json and benchmarks)."""
        v = self.validation
        return {
            "files": self.files,
            "dry_run": self.dry_run,
            "rows": v.rows,
            "valid_rows": v.valid_rows,
            "invalid_rows": len(v.bad),
            "issues": v.issue_count,
            "dependent_rows": v.dependent_rows,
            "nodes": dict(v.nodes_by_kind),
            "edges": dict(v.edges_by_type),
            "written": self.result.model_dump() if self.result else None,
            "drift": None
            if self.drift is None
            else {
                "nodes": {k: len(ids) for k, ids in self.drift.node_ids.items()},
                "edges": dict(self.drift.edges_by_type),
                "statuses": [str(d) for d in self.drift.statuses],
                "riders": {i: riders_dict(r) for i, r in self.drift.riders.items()},
            },
            "rejects": str(self.rejects_path) if self.rejects_path else None,
            "pruned": len(self.pruned),
            "prune_kept": self.prune_kept,
            "seconds": self.seconds,
            "elements_per_second": round(self.rate()),
        }

    def render(self, max_issues: int = 50) -> str:
        """Human-readable summary: issues first, then counts, drift and timings."""
        v = self.validation
        out: list[str] = []
        for issue in v.issues[:max_issues]:
            out.append(str(issue))
        if v.issue_count > min(len(v.issues), max_issues):
            out.append(f"... and {v.issue_count - min(len(v.issues), max_issues)} more issue(s)")
        if v.dependent_rows:
            out.append(f"{v.dependent_rows:,} more row(s) refer to rejected rows and go with them")
        if self.stopped_early:
            out.append("validation stopped early: too many issues")
        out.append(
            f"read {v.rows:,} row(s) from {len(self.files)} file(s): {v.valid_rows:,} valid, "
            f"{len(v.bad):,} invalid; {sum(v.nodes_by_kind.values()):,} node(s), "
            f"{sum(v.edges_by_type.values()):,} edge(s)"
        )
        if self.refused:
            out.append("load refused: nothing written (fix the rows, or pass --skip-invalid)")
        elif self.dry_run:
            out.append("dry run: nothing written")
        if self.result is not None:
            r = self.result
            out.append(
                f"nodes: {r.nodes_added:,} added, {r.nodes_updated:,} updated, "
                f"{r.nodes_unchanged:,} unchanged; edges: {r.edges_added:,} added, "
                f"{r.edges_updated:,} updated, {r.edges_unchanged:,} unchanged"
            )
            if not r.changed:
                out.append("no change: the store already held exactly this feed")
        if self.rejects_path is not None:
            out.append(f"{self.rejects_written:,} rejected row(s) written to {self.rejects_path}")
        out += [f"warning: {w}" for w in self.warnings[:max_issues]]
        if self.drift is not None:
            out.append(self.drift.summary())
        if self.pruned or self.prune_kept:
            riding = [i for i in self.prune_kept if self.drift and i in self.drift.riders]
            out.append(
                f"pruned {len(self.pruned):,} node(s); kept {len(self.prune_kept):,}: "
                f"{len(riding):,} carrying live services (listed above; --prune-with-riders "
                f"removes those whose riders are drifted too), "
                f"{len(self.prune_kept) - len(riding):,} that other elements depend on"
            )
        if self.seconds:
            timing = ", ".join(f"{k} {s:.1f}s" for k, s in self.seconds.items())
            out.append(f"time: {timing} ({self.rate():,.0f} elements/s)")
        return "\n".join(out)
