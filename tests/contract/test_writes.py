"""Upserts, status changes, deletes and bad input: typed errors naming the item, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from pboss.inventory.errors import HasDependants, InvalidTransition, NotFound, ValidationFailed
from pboss.inventory.model import Edge, Element, parse_edge, parse_node
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore


def node(**raw: Any) -> Element:
    parsed = parse_node(raw)
    assert not isinstance(parsed, list), parsed
    return parsed


def edge(**raw: Any) -> Edge:
    parsed = parse_edge(raw)
    assert not isinstance(parsed, list), parsed
    return parsed


def snapshot(store: GraphStore) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Counts plus every node's properties: enough to see that nothing was written."""
    items, after = [], None
    while True:
        page = store.find(FindQuery(after=after, limit=1000))
        items += [e.props() for e in page.items]
        if page.next_cursor is None:
            return store.counts(), items
        after = page.next_cursor


def test_upsert_is_idempotent_and_counts_what_changed(demo_store: GraphStore) -> None:
    from pboss.inventory.demo import demo_network

    nodes, edges = demo_network()
    again = demo_store.upsert(nodes, edges)
    assert not again.changed
    assert again.nodes_unchanged == len(nodes) and again.edges_unchanged == len(edges)
    renamed = node(kind="OLT", id="OLT-1", name="ZJ-OLT-01 (new name)", site="EX-1",
                   spec="OLT-MA5800-X17")  # fmt: skip
    result = demo_store.upsert([renamed])
    assert (result.nodes_updated, result.nodes_added) == (1, 0)
    got = demo_store.get("OLT-1")
    assert got is not None and got.name == "ZJ-OLT-01 (new name)"
    assert got.vendor == "Huawei"  # type: ignore[attr-defined]  # filled from the catalog spec


def test_catalog_spec_fills_characteristics_and_refuses_contradictions(
    demo_store: GraphStore,
) -> None:
    spl = demo_store.get("SPL-JZ-2A")
    assert spl is not None and spl.ratio == 8  # type: ignore[attr-defined]
    bad = node(kind="Splitter", id="SPL-X", site="B-JZ", stage=2, ratio=16, spec="SPL-1x8")
    with pytest.raises(ValidationFailed, match=r"ratio=16 contradicts spec 'SPL-1x8'"):
        demo_store.upsert([bad])
    unknown = node(kind="Splitter", id="SPL-Y", site="B-JZ", spec="SPL-1x3")
    with pytest.raises(ValidationFailed, match="unknown spec 'SPL-1x3'"):
        demo_store.upsert([unknown])


BAD_BATCHES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], str]] = [
    ("edge to a missing node", [], [{"type": "PART_OF", "src": "OLT-1/0/2", "dst": "OLT-9"}],
     r"PART_OF\('OLT-1/0/2' -> 'OLT-9'\).*missing node: dst 'OLT-9'"),
    ("ONT fed straight by an OLT", [{"kind": "ONT", "id": "ONT-9", "site": "B-JZ"}],
     [{"type": "FED_BY", "src": "ONT-9", "dst": "OLT-1"}], r"FED_BY cannot join ONT -> OLT"),
    ("circuit routed over a splitter", [],
     [{"type": "ROUTED_OVER", "src": "CIR-2", "dst": "SPL-JZ-1", "seq": 2, "slots": [1]}],
     r"ROUTED_OVER cannot join Circuit -> Splitter"),
    ("id reused with another kind", [{"kind": "NE", "id": "OLT-1", "site": "EX-1"}], [],
     r"NE 'OLT-1'.*already used by a OLT"),
    ("unknown site", [{"kind": "OLT", "id": "OLT-9", "site": "EX-404"}], [],
     r"OLT 'OLT-9'\.site: unknown site 'EX-404'"),
    ("owner that is no partner", [{"kind": "PartnerLink", "id": "PL-9", "owner": "H-1"}], [],
     r"PartnerLink 'PL-9'\.owner"),
    ("illegal status transition", [{"kind": "Circuit", "id": "CIR-2", "status": "retired",
                                    "bandwidth_2m": 4}], [],
     r"Circuit 'CIR-2'\.status: status cannot change from 'in_use' to 'retired'"),
    ("VC-12 slot already held", [],
     [{"type": "ROUTED_OVER", "src": "CIR-1", "dst": "TS-2", "seq": 2, "slots": [1, 2]}],
     r"VC-12 slot 1 already held by 'CIR-2'"),
    ("VC-12 slot beyond capacity", [],
     [{"type": "ROUTED_OVER", "src": "CIR-2", "dst": "TS-1", "seq": 2, "slots": [64]}],
     r"VC-12 slots \[64\] outside 1..63"),
    ("stage-2 splitter fed by a PON port", [{"kind": "Splitter", "id": "SPL-Z", "stage": 2,
                                             "ratio": 8}],
     [{"type": "FED_BY", "src": "SPL-Z", "dst": "OLT-1/0/2"}], r"stage-2 splitter cannot be fed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("nodes", "edges", "message"),
    [pytest.param(n, e, m, id=case) for case, n, e, m in BAD_BATCHES],
)
def test_bad_batch_is_refused_whole_with_the_offending_item_named(
    demo_store: GraphStore, nodes: list[dict[str, Any]], edges: list[dict[str, Any]], message: str
) -> None:
    # A good node rides along in every bad batch: it must not be written either.
    good = node(kind="OLT", id="OLT-GOOD", site="EX-1")
    before = snapshot(demo_store)
    with pytest.raises(ValidationFailed, match=message) as err:
        demo_store.upsert([good, *(node(**n) for n in nodes)], [edge(**e) for e in edges])
    assert err.value.issues
    assert snapshot(demo_store) == before
    assert demo_store.get("OLT-GOOD") is None


def test_unknown_kind_and_missing_id_are_typed_issues() -> None:
    assert parse_node({"kind": "Router", "id": "R1"})[0].reason.startswith("unknown kind 'Router'")  # type: ignore[index]
    missing = parse_node({"kind": "OLT", "name": "no id"})
    assert isinstance(missing, list) and (missing[0].field, missing[0].reason) == (
        "id",
        "missing id",
    )
    wrong = parse_node({"kind": "Splitter", "id": "S", "ratio": "eight"})
    assert isinstance(wrong, list) and wrong[0].field == "ratio" and wrong[0].item == "Splitter 'S'"
    assert isinstance(parse_edge({"type": "CONNECTS", "src": "a", "dst": "b"}), list)


def test_status_changes_follow_the_lifecycle_table(demo_store: GraphStore) -> None:
    with pytest.raises(InvalidTransition) as err:
        demo_store.set_status("CIR-1", "retired", actor="eng", reason="decommission")
    assert (err.value.from_status, err.value.to_status) == ("in_use", "retired")
    assert demo_store.set_status("CIR-1", "in_use", actor="eng", reason="no-op") is None
    with pytest.raises(NotFound):
        demo_store.set_status("NOPE", "faulty", actor="eng", reason="x")
    assert [h for h in demo_store.history("CIR-1") if h.change == "status"] == []


def test_upsert_status_change_is_in_the_history(demo_store: GraphStore) -> None:
    ts = demo_store.get("TS-1")
    assert ts is not None
    ts.status = "maintenance"  # type: ignore[assignment]
    demo_store.upsert([ts], actor="loader:nms", reason="feed 2026-11-27")
    [rec] = [h for h in demo_store.history("TS-1") if h.change == "status"]
    assert (rec.from_status, rec.to_status, rec.actor, rec.reason) == (
        "available",
        "maintenance",
        "loader:nms",
        "feed 2026-11-27",
    )
    assert rec.at is not None


def test_delete_refuses_to_orphan_dependants_unless_cascading(demo_store: GraphStore) -> None:
    with pytest.raises(HasDependants) as err:
        demo_store.delete(["SPL-JZ-2B"])
    assert "ONT-3" in err.value.dependants and "SVC-H3-VO" in err.value.dependants
    assert demo_store.get("SPL-JZ-2B") is not None
    assert demo_store.delete(["OLT-1/0/2"]) == ["OLT-1/0/2"]
    doomed = demo_store.delete(["SPL-JZ-2B"], cascade=True, actor="eng:carol")
    assert "SVC-H3-BB" in doomed and "ONT-3" in doomed and "SPL-JZ-2B:8" in doomed
    assert demo_store.get("ONT-3") is None and demo_store.get("H-3") is not None
    assert demo_store.riders(["SPL-JZ-1"]).totals.services == 3
    assert demo_store.history("SVC-H3-BB")[0].to_status == "deleted"


NASTY = [
    "it's",
    'say "hi"',
    "back`tick`",
    "{braces} and $params",
    "line\nbreak",
    "张江局 / 陆家嘴",
    "MATCH (n) DETACH DELETE n",
    "x'}) DETACH DELETE n //",
    "\\ backslash \\",
]


@pytest.mark.parametrize("text", NASTY)
def test_awkward_ids_and_values_round_trip_verbatim(store: GraphStore, text: str) -> None:
    site = node(kind="Site", id=f"S:{text}", name=text, address=text, attrs={"note": text})
    olt = node(kind="OLT", id=text, name=text, site=site.id)
    pon = node(kind="PonPort", id=f"{text}/0/1", site=site.id)
    store.upsert([site, olt, pon], [edge(type="PART_OF", src=pon.id, dst=olt.id)])
    got = store.get(text)
    assert got is not None and (got.id, got.name, got.site) == (text, text, site.id)
    assert store.get(site.id).attrs == {"note": text}  # type: ignore[union-attr]
    assert [e.id for e in store.find(FindQuery(text=text, kind="OLT")).items] == [text]
    assert [e.id for _, e in store.neighbours(pon.id)] == [text]
    assert store.counts()["Site"] == 1


def test_find_filters_pages_and_totals(demo_store: GraphStore) -> None:
    page = demo_store.find(FindQuery(kind="SplitterPort", site="B-JZ", limit=10))
    assert page.total == 20 and len(page.items) == 10
    ids = [e.id for e in page.items]
    assert ids == sorted(ids)
    rest = demo_store.find(
        FindQuery(kind="SplitterPort", site="B-JZ", limit=10, after=page.next_cursor)
    )
    assert len(rest.items) == 10 and rest.next_cursor is None
    assert not set(ids) & {e.id for e in rest.items}
    partner = demo_store.find(FindQuery(owner="P-TT"))
    assert [e.id for e in partner.items] == ["PL-1"]
    assert demo_store.find(FindQuery(status="in_use", kind="ONT")).total == 5
    assert [e.id for e in demo_store.find(FindQuery(text="金座")).items] == ["B-JZ"]
    assert [e.id for e in demo_store.find(FindQuery(text="zj-olt")).items] == ["OLT-1"]


def test_neighbours_in_both_directions(demo_store: GraphStore) -> None:
    out = demo_store.neighbours("CIR-1", "out", ["ROUTED_OVER"])
    assert [(e.dst, e.seq, e.slots) for e, _ in out] == [
        ("TS-1", 1, [1, 2]), ("TS-2", 2, [5, 6]), ("PL-1", 3, [10, 11])
    ]  # fmt: skip
    inward = demo_store.neighbours("H-1", "in", ["FOR"])
    assert sorted(el.id for _, el in inward) == ["SVC-H1-BB", "SVC-H1-TV"]
    with pytest.raises(NotFound):
        demo_store.neighbours("NOPE")


def test_an_edge_update_replaces_its_properties(demo_store: GraphStore) -> None:
    tagged = edge(type="PART_OF", src="OLT-1/0/2", dst="OLT-1", attrs={"patch": "A-17"})
    assert demo_store.upsert([], [tagged]).edges_updated == 1
    plain = edge(type="PART_OF", src="OLT-1/0/2", dst="OLT-1")
    assert demo_store.upsert([], [plain]).edges_updated == 1
    assert demo_store.upsert([], [plain]).edges_unchanged == 1
    [(stored, _)] = demo_store.neighbours("OLT-1/0/2", "out", ["PART_OF"])
    assert stored.attrs == {}


def test_an_element_has_one_upstream_of_each_single_type(demo_store: GraphStore) -> None:
    second_feed = edge(type="FED_BY", src="SPL-JZ-2B", dst="SPL-JZ-1:3")
    with pytest.raises(ValidationFailed, match=r"'SPL-JZ-2B' already has FED_BY 'SPL-JZ-1:2'"):
        demo_store.upsert([], [second_feed])
    in_one_batch = [
        edge(type="PART_OF", src="NE-1/E1-1", dst="NE-1"),
        edge(type="PART_OF", src="NE-1/E1-1", dst="NE-2"),
    ]
    with pytest.raises(ValidationFailed, match="already has PART_OF 'NE-1'"):
        demo_store.upsert([], in_one_batch)


def test_a_service_is_for_one_customer(demo_store: GraphStore) -> None:
    """A second FOR would make a service ride for two customers: riders, impact and the
    customer's network would each have to pick one."""
    before = snapshot(demo_store)
    with pytest.raises(ValidationFailed, match=r"'SVC-H1-BB' already has FOR 'H-1'"):
        demo_store.upsert([], [edge(type="FOR", src="SVC-H1-BB", dst="H-2")])
    assert snapshot(demo_store) == before
    [row] = [r for r in demo_store.riders(["ONT-1"]).items if r.service.id == "SVC-H1-BB"]
    assert row.customer is not None and row.customer.id == "H-1"
    # the same FOR again changes nothing
    assert (
        demo_store.upsert([], [edge(type="FOR", src="SVC-H1-BB", dst="H-1")]).edges_unchanged == 1
    )


def test_two_circuits_in_one_batch_cannot_take_the_same_slot(demo_store: GraphStore) -> None:
    circuits = [node(kind="Circuit", id=c, bandwidth_2m=1) for c in ("CIR-X", "CIR-Y")]
    routes = [
        edge(type="ROUTED_OVER", src=c, dst="TS-1", seq=1, slots=[40]) for c in ("CIR-X", "CIR-Y")
    ]
    with pytest.raises(ValidationFailed, match="VC-12 slot 40 already held by 'CIR-X'"):
        demo_store.upsert(circuits, routes)
    assert demo_store.get("CIR-X") is None


def test_issues_point_at_the_input_row_even_after_repeated_ids(demo_store: GraphStore) -> None:
    rows = [
        node(kind="OLT", id="OLT-R", site="EX-1"),
        node(kind="OLT", id="OLT-R", site="EX-1"),
        node(kind="OLT", id="OLT-S", site="EX-404"),
    ]
    with pytest.raises(ValidationFailed) as err:
        demo_store.upsert(rows)
    assert [(i.item, i.index) for i in err.value.issues] == [("OLT 'OLT-S'", 2)]


def test_the_callers_nodes_are_not_changed(store: GraphStore) -> None:
    site = node(kind="Site", id="S1")
    olt = node(kind="OLT", id="OLT-C", site="S1", spec="OLT-C600")
    store.upsert([site, olt])
    assert olt.vendor is None and olt.attrs == {}  # type: ignore[attr-defined]
    assert store.get("OLT-C").vendor == "ZTE"  # type: ignore[union-attr]


def test_values_neo4j_cannot_hold_are_refused_by_the_model() -> None:
    hidden = parse_node({"kind": "OLT", "id": "A", "attrs": {"_lock": True}})
    assert isinstance(hidden, list) and "must not be empty or start with '_'" in hidden[0].reason
    huge = parse_node({"kind": "OLT", "id": "A", "attrs": {"serial_no": 2**70}})
    assert isinstance(huge, list) and "does not fit in a 64-bit integer" in huge[0].reason
    assert isinstance(parse_node({"kind": "Site", "id": "A", "households": 2**64}), list)
    assert isinstance(
        parse_node({"kind": "Splitter", "id": "A", "stage": 1, "ratio": -(2**63) - 1}), list
    )
    assert isinstance(parse_node({"kind": "OLT", "id": "A", "attrs": {"ids": [1, 2**63]}}), list)
    assert not isinstance(parse_node({"kind": "OLT", "id": "A", "attrs": {"n": 2**63 - 1}}), list)
    too_far = {"type": "ROUTED_OVER", "src": "C", "dst": "T", "seq": 1, "slots": [1, 2**64]}
    assert isinstance(parse_edge(too_far), list)
    assert isinstance(parse_edge({"type": "PART_OF", "src": "C", "dst": "T", "seq": 2**64}), list)


def test_text_search_ignores_ascii_case_alike_on_every_store(store: GraphStore) -> None:
    store.upsert([node(kind="Site", id="S-DE", name="Hauptstraße 5", code="HBF")])
    assert [e.id for e in store.find(FindQuery(text="HAUPTSTRASSE")).items] == []
    assert [e.id for e in store.find(FindQuery(text="HAUPTSTRAßE")).items] == ["S-DE"]
    assert [e.id for e in store.find(FindQuery(text="hbf")).items] == ["S-DE"]
