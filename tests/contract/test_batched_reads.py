"""`neighbours_many` and `history_many`: a page's links and history in one call, each element's
answer exactly what `neighbours` and `history` give it alone; on both stores."""

from __future__ import annotations

import pytest

from pboss.inventory.store import GraphStore

IDS = ["OLT-1", "SPL-JZ-2A", "TS-1", "PL-1", "SVC-H5-CB", "B-JZ"]


@pytest.mark.parametrize("direction", ["in", "out"])
@pytest.mark.parametrize("types", [None, ["PART_OF"], ["FED_BY", "USES"]])
def test_neighbours_many_is_neighbours_of_each(
    demo_store: GraphStore, direction: str, types: list[str] | None
) -> None:
    got = demo_store.neighbours_many([*IDS, "NOPE", "OLT-1"], direction, types)  # type: ignore[arg-type]
    assert set(got) == set(IDS)  # an unknown id is absent, a repeated one answered once
    for i in IDS:
        assert got[i] == demo_store.neighbours(i, direction, types), i  # type: ignore[arg-type]
    assert demo_store.neighbours_many([], direction) == {}  # type: ignore[arg-type]


def test_history_many_is_history_of_each_newest_first_within_the_limit(
    demo_store: GraphStore,
) -> None:
    for status in ("maintenance", "available", "maintenance"):
        demo_store.set_status("OLT-1", status, actor="test", reason=f"to {status}")
    demo_store.set_status("TS-1", "maintenance", actor="test", reason="works")
    got = demo_store.history_many(["OLT-1", "TS-1", "B-JZ", "NOPE"], limit=2)
    assert set(got) == {"OLT-1", "TS-1", "B-JZ", "NOPE"}
    for i in ("OLT-1", "TS-1", "B-JZ", "NOPE"):
        assert got[i] == demo_store.history(i, limit=2), i
    assert [r.reason for r in got["OLT-1"]] == ["to maintenance", "to available"]
    assert [r.to_status for r in got["TS-1"]] == ["maintenance", "available"]  # then an edge
    assert got["NOPE"] == []
    assert all(r.reason == "reference network" for r in got["B-JZ"])  # created with the demo
    statuses = [r for r in demo_store.history_many(["OLT-1"], limit=100)["OLT-1"]]
    assert len([r for r in statuses if r.change == "status"]) == 3
