"""Drift linked to riders: for every drifted element the report names the services and customers
riding it, and --prune never removes an element with riders unless told to."""

from __future__ import annotations

from pathlib import Path

from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, load_paths
from pboss.loaders.feeds import FeedSource, load_mapping
from pboss.loaders.loader import Loader
from tests.loaders.conftest import DATA, BundleMaker

CIRCUITS = DATA / "tietong_circuits.csv"


def _without_h4_broadband(nodes: list[dict], edges: list[dict]) -> None:
    """The demo without H-4's broadband service and the ONT it uses."""
    gone = {"SVC-H4-BB", "ONT-4"}
    nodes[:] = [n for n in nodes if n["id"] not in gone]
    edges[:] = [e for e in edges if e["src"] not in gone and e["dst"] not in gone]


def test_a_partner_link_missing_from_the_feed_shows_its_platinum_circuit(
    demo_store: GraphStore, tmp_path: Path
) -> None:
    options = LoadOptions(skip_invalid=True, rejects=tmp_path / "r.ndjson", prune=True)
    source = FeedSource(load_mapping("tietong-circuits"), [CIRCUITS], demo_store)
    report = Loader(demo_store, options).run(source)
    assert report.drift is not None and report.drift.node_ids == {"PartnerLink": ["PL-1"]}
    riders = report.drift.riders["PL-1"]
    assert (riders.totals.services, riders.totals.customers) == (1, 1)
    assert riders.totals.by_sla_tier == {"platinum": 1}
    assert [(r.service.id, r.customer.id if r.customer else None) for r in riders.items] == [
        ("SVC-E1-LL", "E-1")
    ]
    text = report.render()
    assert (
        "PL-1 carries 1 service(s) of 1 customer(s) (platinum 1): SVC-E1-LL MSTP-LL for E-1" in text
    )
    assert report.pruned == [] and report.prune_kept == ["PL-1"]
    assert "1 carrying live services" in text
    assert demo_store.get("PL-1") is not None
    listed = report.as_dict()["drift"]["riders"]["PL-1"]
    assert listed["listed"] == [
        {"service": "SVC-E1-LL", "product": "MSTP-LL", "customer": "E-1", "sla_tier": "platinum"}
    ]


def test_prune_keeps_elements_with_riders_unless_told(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    full = make_bundle(name="full")
    load_paths(store, [full])
    bundle = make_bundle(_without_h4_broadband, name="without")
    before = store.counts()

    report = load_paths(store, [bundle], LoadOptions(prune=True))
    assert report.drift is not None
    assert report.drift.node_ids == {"ONT": ["ONT-4"], "Service": ["SVC-H4-BB"]}
    assert sorted(report.drift.riders) == ["ONT-4", "SVC-H4-BB"]
    for riders in report.drift.riders.values():
        assert [(r.service.id, r.customer.id if r.customer else None) for r in riders.items] == [
            ("SVC-H4-BB", "H-4")
        ]
    assert report.pruned == [] and sorted(report.prune_kept) == ["ONT-4", "SVC-H4-BB"]
    assert store.counts() == before

    told = load_paths(store, [bundle], LoadOptions(prune=True, prune_with_riders=True))
    assert told.pruned == ["SVC-H4-BB", "ONT-4"] and told.prune_kept == []
    assert store.get("ONT-4") is None and store.get("SVC-H4-BB") is None
    assert store.get("H-4") is not None  # the customer is not in the drift: it stays


def test_drift_without_riders_lists_none(store: GraphStore, make_bundle: BundleMaker) -> None:
    load_paths(store, [make_bundle(name="full")])

    def without_spare_port(nodes: list[dict], edges: list[dict]) -> None:
        nodes[:] = [n for n in nodes if n["id"] != "SPL-JZ-1:3"]
        edges[:] = [e for e in edges if e["src"] != "SPL-JZ-1:3"]

    report = load_paths(store, [make_bundle(without_spare_port, name="b")], LoadOptions(prune=True))
    assert report.drift is not None and report.drift.riders == {}
    assert report.pruned == ["SPL-JZ-1:3"]


def test_prune_with_riders_needs_prune(make_bundle: BundleMaker) -> None:
    from typer.testing import CliRunner

    from pboss.cli.main import app

    args = ["load", str(make_bundle()), "--store", "memory", "-q", "--prune-with-riders"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--prune-with-riders goes with --prune" in result.output
