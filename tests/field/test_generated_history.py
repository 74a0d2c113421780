"""The generator's crews and field history: what it writes loads on both stores, and the KPIs of
a generated month equal the figures counted straight from the bundle's rows."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from pboss.field import kpis
from pboss.inventory.store import GraphStore
from pboss.loaders import load_paths
from pboss.loaders.generator import SCALES, generate

MONTH = "2026-11"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hist") / "bundle"
    generate(out, dataclasses.replace(SCALES["tiny"], history_months=1), 7)
    return out


def _rows(bundle: Path, kind: str) -> list[dict]:
    with (bundle / "nodes" / f"{kind}.ndjson").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_crews_cover_their_districts_and_partners_have_teams(bundle: Path) -> None:
    crews = _rows(bundle, "Crew")
    owners = {c["owner"] for c in crews}
    assert owners == {"self", "P-TT", "P-OC"}
    skills = {s for c in crews for s in c["skills"]}
    assert {"ftthInstall", "mstpSdh", "repair", "cableTv"} <= skills
    assert all(c["areas"] and json.loads(c["members"]) for c in crews)


def test_kpis_of_a_generated_month_match_the_rows(store: GraphStore, bundle: Path) -> None:
    load_paths(store, [bundle])
    lo, hi = (t.isoformat() for t in kpis.month_window(MONTH))
    closed = [
        w for w in _rows(bundle, "WorkOrder")
        if lo <= datetime.fromisoformat(w["completed_at"]).isoformat() < hi
    ]  # fmt: skip
    assert len(closed) > 50
    expected: dict[str, dict] = defaultdict(lambda: {"jobs": 0, "on_time": 0, "hours": []})
    for w in closed:
        e = expected[w["crew"]]
        e["jobs"] += 1
        e["on_time"] += w["state"] == "done" and w["completed_at"] <= w["due_at"]
        if w["state"] == "done":
            took = datetime.fromisoformat(w["completed_at"]) - datetime.fromisoformat(
                w["created_at"]
            )
            e["hours"].append(took.total_seconds() / 3600)
    got = {r.key: r for r in kpis.kpis(store, MONTH, "crew")}
    assert set(got) == set(expected)
    for crew, e in expected.items():
        assert got[crew].jobs == e["jobs"] and got[crew].on_time == e["on_time"], crew
        assert got[crew].median_hours == pytest.approx(statistics.median(e["hours"])), crew
