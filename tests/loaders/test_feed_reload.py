"""Re-loading a partner feed keeps what engineers set: a feed owns only the fields its mapping
carries, so a status a person set stays (the disagreement is drift) and attributes the feed does
not carry stay; an identical re-load changes nothing, on every store."""

from __future__ import annotations

from pathlib import Path

from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, LoadReport
from pboss.loaders.feeds import FeedSource, load_mapping
from pboss.loaders.loader import Loader
from tests.loaders.conftest import DATA

COVERAGE_GBK = DATA / "oriental_cable_coverage_gbk.csv"
CIRCUITS = DATA / "tietong_circuits.csv"


def _load(
    store: GraphStore, mapping: str, path: Path, tmp_path: Path, **opts: object
) -> LoadReport:
    rejects = tmp_path / "rejects.ndjson"
    options = LoadOptions(skip_invalid=True, rejects=rejects, **opts)  # type: ignore[arg-type]
    return Loader(store, options).run(FeedSource(load_mapping(mapping), [path], store))


def _coverage(store: GraphStore, tmp_path: Path) -> LoadReport:
    return _load(store, "oriental-cable-coverage", COVERAGE_GBK, tmp_path, encoding="gbk")


def _engineer_touches(store: GraphStore, element_id: str, status: str) -> None:
    """What an engineer does: a status change through the lifecycle and a free attribute."""
    store.set_status(element_id, status, actor="alice", reason="splicing the riser")
    el = store.get(element_id)
    assert el is not None
    el.attrs["riser_note"] = "riser B, cabinet 3"
    store.upsert([el], actor="alice", reason="note")


def test_identical_reload_keeps_an_engineers_status_and_attributes(
    demo_store: GraphStore, tmp_path: Path
) -> None:
    first = _coverage(demo_store, tmp_path)
    assert first.result is not None and first.result.nodes_added == 2
    _engineer_touches(demo_store, "PA-B-DH-OC", "maintenance")
    before = demo_store.get("PA-B-DH-OC")

    again = _coverage(demo_store, tmp_path)
    pool = demo_store.get("PA-B-DH-OC")
    assert pool is not None and pool == before
    assert pool.status == "maintenance" and pool.attrs["riser_note"] == "riser B, cabinet 3"
    assert again.result is not None and not again.result.changed
    assert (again.result.nodes_updated, again.result.nodes_unchanged) == (0, 2)
    assert "no change" in again.render()
    assert again.drift is not None
    [disagreement] = again.drift.statuses
    assert (disagreement.element_id, disagreement.stored, disagreement.feed) == (
        "PA-B-DH-OC", "maintenance", "available",
    )  # fmt: skip
    assert disagreement.set_by == "alice" and disagreement.where.endswith(":2")
    assert "PA-B-DH-OC: keeps maintenance (set by alice" in again.render()
    status_changes = [
        (h.actor, h.to_status)
        for h in demo_store.history("PA-B-DH-OC")
        if h.from_status is not None and h.from_status != h.to_status
    ]
    assert status_changes == [("alice", "maintenance")]  # the re-load wrote no status


def test_a_feed_changes_status_it_set_itself_through_the_lifecycle(
    demo_store: GraphStore, tmp_path: Path
) -> None:
    _load(demo_store, "tietong-circuits", CIRCUITS, tmp_path)
    _engineer_touches(demo_store, "PL-TT-SH-0101", "maintenance")
    changed = tmp_path / "circuits.csv"
    text = CIRCUITS.read_text(encoding="utf-8")
    changed.write_text(text.replace("TT-2009-01,空闲", "TT-2009-01,故障"), encoding="utf-8")

    report = _load(demo_store, "tietong-circuits", changed, tmp_path)
    assert report.result is not None and report.result.nodes_updated == 1
    faulty = demo_store.get("PL-TT-SH-0102")  # the partner's own word, applied as a transition
    assert faulty is not None and faulty.status == "faulty"
    latest = demo_store.history("PL-TT-SH-0102")[0]
    assert (latest.from_status, latest.to_status, latest.actor) == ("available", "faulty", "loader")
    kept = demo_store.get("PL-TT-SH-0101")  # the engineer's maintenance stays; drift says so
    assert kept is not None and kept.status == "maintenance" and "riser_note" in kept.attrs
    assert report.drift is not None
    assert [(d.element_id, d.stored, d.feed) for d in report.drift.statuses] == [
        ("PL-TT-SH-0101", "maintenance", "in_use")
    ]
