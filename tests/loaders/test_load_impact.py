"""A load is a write path like any other: a status change that takes live services down
(MAINTENANCE or RETIRED of a resource services ride) refuses the load, which is undone, unless
the operator accepts the impact (`--accept-impact`). Both stores."""

from __future__ import annotations

import pytest

from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, load_paths
from pboss.loaders.issues import LoadError
from tests.loaders.conftest import BundleMaker


def _ts1_to(status: str):  # type: ignore[no-untyped-def]
    """The demo as exported, except trunk section TS-1 (the platinum circuit rides it)."""

    def change(nodes: list[dict], edges: list[dict]) -> None:
        next(n for n in nodes if n["id"] == "TS-1")["status"] = status
        next(n for n in nodes if n["id"] == "H-2")["name"] = "renamed in the same load"

    return change


def test_a_load_retiring_what_services_ride_is_refused_and_undone(
    demo_store: GraphStore, make_bundle: BundleMaker
) -> None:
    assert demo_store.riders(["TS-1"], first=1).totals.services == 1
    before, ts1 = demo_store.get("H-2"), demo_store.get("TS-1")
    with pytest.raises(LoadError) as refused:
        load_paths(demo_store, [make_bundle(_ts1_to("maintenance"))])
    message = str(refused.value)
    assert "status change of 'TS-1' would affect 1 service(s) of 1 customer(s)" in message
    assert "load with --accept-impact to go ahead" in message
    assert demo_store.get("TS-1") == ts1
    assert demo_store.get("H-2") == before  # the rest of the load is undone too


def test_a_load_that_accepts_the_impact_goes_ahead(
    demo_store: GraphStore, make_bundle: BundleMaker
) -> None:
    report = load_paths(
        demo_store, [make_bundle(_ts1_to("maintenance"))], LoadOptions(accept_impact=True)
    )
    assert report.result is not None and report.result.changed
    assert demo_store.get("TS-1").status == "maintenance"  # type: ignore[union-attr]
