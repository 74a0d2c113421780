"""Over HTTP: `deleteEdges` and `repointEdges`, on both stores.

Re-homing a household was impossible through the API (a second FED_BY is refused and no edge could
be deleted). Now ONT-1 moves to a free output of another splitter in one call (its riders and
trace follow), a taken output answers PortInUse naming its user, a missing edge NotFound, an
invalid part of a batch refuses the whole batch, riders are acknowledged, and the answer's
before/after moves everything back.
"""

from __future__ import annotations

import random
from typing import Any

from pboss.inventory.model import parse_edge, parse_node
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api
from tests.contract.test_edge_changes import graph_of

ANSWER = """
    __typename
    ... on EdgesChanged {
      removed { type src dst }
      moved { before { type src dst seq slots } after { type src dst seq slots } }
      history { elementId change before after actor reason edge { type src dst } }
    }
    ... on PortInUse { code message ports issues { item reason } }
    ... on NotFound { code message id kind }
    ... on ValidationError { code issues { item reason } }
    ... on ImpactNotAcknowledged { riders stale resources action }
    ... on Forbidden { code message }
"""
REPOINT = (
    """
mutation Move($moves: [EdgeMoveInput!]!, $n: Int, $accept: Boolean! = false,
              $reason: String! = "cabinet moved") {
  repointEdges(moves: $moves, reason: $reason, acknowledgedRiders: $n, acceptImpact: $accept) {
"""
    + ANSWER
    + "} }"
)
DELETE = (
    """
mutation Cut($edges: [EdgeKeyInput!]!, $n: Int, $accept: Boolean! = false) {
  deleteEdges(edges: $edges, reason: "ceased", acknowledgedRiders: $n, acceptImpact: $accept) {
"""
    + ANSWER
    + "} }"
)
REHOME = {"type": "FED_BY", "src": "ONT-1", "dst": "SPL-JZ-2A:1", "newDst": "SPL-JZ-2B:2"}


def _repoint(api: Api, key: str = ENGINEER, **args: Any) -> dict[str, Any]:
    return api.data(REPOINT, key=key, **args)["repointEdges"]


def _feed(api: Api, ont: str) -> list[str]:
    q = "query F($id: ID!) { element(id: $id) { ... on Element { dependencies(types: [FED_BY]) "
    q += "{ node { id } } } } }"
    return [d["node"]["id"] for d in api.data(q, id=ont)["element"]["dependencies"]]


def test_rehoming_ont_1_moves_its_riders_and_trace(api: Api) -> None:
    refused = _repoint(api, moves=[REHOME])
    assert refused["__typename"] == "ImpactNotAcknowledged"
    assert (refused["riders"], refused["resources"]) == (2, ["ONT-1"])
    assert _feed(api, "ONT-1") == ["SPL-JZ-2A:1"]

    done = _repoint(api, moves=[REHOME], n=2)
    assert done["__typename"] == "EdgesChanged", done
    [moved] = done["moved"]
    assert moved["before"]["dst"] == "SPL-JZ-2A:1" and moved["after"]["dst"] == "SPL-JZ-2B:2"
    ends = sorted(h["elementId"] for h in done["history"])
    assert ends == ["ONT-1", "SPL-JZ-2A:1", "SPL-JZ-2B:2"]
    for h in done["history"]:
        assert h["change"] == "EDGE_MOVED" and h["actor"].startswith("engineer:")
        assert h["before"] == {"src": "ONT-1", "dst": "SPL-JZ-2A:1"}
        assert h["after"] == {"src": "ONT-1", "dst": "SPL-JZ-2B:2"}
    assert _feed(api, "ONT-1") == ["SPL-JZ-2B:2"]
    trace = api.data('{ trace(id: "SVC-H1-BB") { ... on Trace { hops { element { id } } } } }')
    hops = [h["element"]["id"] for h in trace["trace"]["hops"]]
    assert hops[:3] == ["ONT-1", "SPL-JZ-2B:2", "SPL-JZ-2B"]
    riders = api.data(
        '{ riders(resource: "SPL-JZ-2B") { ... on RiderConnection { totals { services } } } }'
    )
    assert riders["riders"]["totals"]["services"] == 4
    history = api.data(
        '{ element(id: "SPL-JZ-2A:1") { ... on Element { history { change reason } } } }'
    )
    assert {"change": "EDGE_MOVED", "reason": "cabinet moved"} in history["element"]["history"]


def test_a_taken_output_answers_port_in_use_and_writes_nothing(
    api: Api, demo_store: GraphStore
) -> None:
    before = graph_of(demo_store)
    taken = {**REHOME, "newDst": "SPL-JZ-2A:2"}
    got = _repoint(api, moves=[taken], accept=True)
    assert got["__typename"] == "PortInUse" and got["code"] == "PORT_IN_USE"
    assert got["ports"] == ["SPL-JZ-2A:2"]
    assert "already used by 'ONT-2'" in got["issues"][0]["reason"]
    assert graph_of(demo_store) == before


def test_a_missing_edge_or_node_is_not_found(api: Api, demo_store: GraphStore) -> None:
    before = graph_of(demo_store)
    got = api.data(DELETE, edges=[{"type": "FED_BY", "src": "ONT-1", "dst": "SPL-JZ-2B:2"}])
    got = got["deleteEdges"]
    assert got["__typename"] == "NotFound" and got["kind"] == "edge"
    assert got["message"] == "edge FED_BY('ONT-1' -> 'SPL-JZ-2B:2') not found"
    ghost = {**REHOME, "newDst": "SPL-NOPE:1"}
    got = _repoint(api, moves=[ghost], accept=True)
    assert (got["__typename"], got["id"]) == ("NotFound", "SPL-NOPE:1")
    assert graph_of(demo_store) == before


def test_a_batch_with_one_invalid_move_writes_nothing(api: Api, demo_store: GraphStore) -> None:
    before = graph_of(demo_store)
    bad = {"type": "FED_BY", "src": "ONT-2", "dst": "SPL-JZ-2A:2", "newDst": "OLT-1/0/2"}
    got = _repoint(api, moves=[REHOME, bad], accept=True)
    assert got["__typename"] == "ValidationError"
    assert "FED_BY cannot join ONT -> PonPort" in got["issues"][0]["reason"]
    got = _repoint(api, moves=[REHOME], accept=True, reason="  ")
    assert got["__typename"] == "ValidationError"
    assert graph_of(demo_store) == before


def test_deleting_an_edge_with_riders_needs_a_current_count(
    api: Api, demo_store: GraphStore
) -> None:
    route = [{"type": "ROUTED_OVER", "src": "CIR-1", "dst": "PL-1"}]
    stale = api.data(DELETE, edges=route, n=3)["deleteEdges"]
    assert stale["__typename"] == "ImpactNotAcknowledged" and stale["stale"]
    assert stale["riders"] == 1 and stale["action"] == "edge delete"
    assert ("ROUTED_OVER", "CIR-1", "PL-1") in graph_of(demo_store)["edges"]
    done = api.data(DELETE, edges=route, n=1)["deleteEdges"]
    assert done["__typename"] == "EdgesChanged"
    assert done["removed"] == [{"type": "ROUTED_OVER", "src": "CIR-1", "dst": "PL-1"}]
    assert ("ROUTED_OVER", "CIR-1", "PL-1") not in graph_of(demo_store)["edges"]


def test_the_answer_moves_everything_back_exactly(api: Api, demo_store: GraphStore) -> None:
    before = graph_of(demo_store)
    moves = [
        REHOME,
        {"type": "ROUTED_OVER", "src": "CIR-2", "dst": "TS-2", "newDst": "TS-1",
         "slots": [3, 4, 5, 6]},
    ]  # fmt: skip
    done = _repoint(api, moves=moves, accept=True)
    assert done["__typename"] == "EdgesChanged"
    back = [
        {
            "type": m["after"]["type"],
            "src": m["after"]["src"],
            "dst": m["after"]["dst"],
            "newDst": m["before"]["dst"],
            "slots": m["before"]["slots"],
        }
        for m in done["moved"]
    ]
    assert _repoint(api, moves=back, accept=True, reason="rollback")["__typename"] == (
        "EdgesChanged"
    )
    assert graph_of(demo_store) == before


def test_who_may_change_edges(api: Api, demo_store: GraphStore) -> None:
    assert _repoint(api, CRM, moves=[REHOME], accept=True)["__typename"] == "Forbidden"
    # a partner: the operator's ONT is hidden, so it is answered as missing
    hidden = _repoint(api, PARTNER_TT, moves=[REHOME], accept=True)
    assert (hidden["__typename"], hidden["id"]) == ("NotFound", "ONT-1")
    # provisioning's holds belong to the order mutations
    hold = [{"type": "HOLDS", "src": "RSV-1", "dst": "SPL-JZ-2B:2"}]
    assert api.data(DELETE, key=ADMIN, edges=hold)["deleteEdges"]["__typename"] == "Forbidden"
    # a partner re-points a port between two NEs of its own, but not onto another's NE
    nodes = [
        parse_node({"kind": "NE", "id": f"TT-NE-{i}", "owner": "P-TT", "spec": "MSTP-ADM"})
        for i in (1, 2)
    ]
    nodes += [parse_node({"kind": "Port", "id": "TT-NE-1/E1-1", "owner": "P-TT"})]
    nodes += [parse_node({"kind": "NE", "id": "OC-NE-1", "owner": "P-OC", "spec": "MSTP-ADM"})]
    edge = parse_edge({"type": "PART_OF", "src": "TT-NE-1/E1-1", "dst": "TT-NE-1"})
    demo_store.upsert(nodes, [edge], actor="test", reason="partner NEs")  # type: ignore[list-item]
    own = {"type": "PART_OF", "src": "TT-NE-1/E1-1", "dst": "TT-NE-1", "newDst": "TT-NE-2"}
    elsewhere = {**own, "newDst": "OC-NE-1"}
    refused = _repoint(api, PARTNER_TT, moves=[elsewhere])
    assert (refused["__typename"], refused["id"]) == ("NotFound", "OC-NE-1")
    assert _repoint(api, PARTNER_OC, moves=[own])["__typename"] == "NotFound"
    done = _repoint(api, PARTNER_TT, moves=[own])
    assert done["__typename"] == "EdgesChanged"
    assert done["moved"][0]["after"]["dst"] == "TT-NE-2"


def test_junk_edges_are_typed_answers_never_a_crash(api: Api, demo_store: GraphStore) -> None:
    """Junk ids (empty, NUL, huge, quotes) and wrong types reach the resolvers and come back as
    typed answers for every role, writing nothing (no junk pair is a stored edge)."""
    before = graph_of(demo_store)
    junk = ["", " ", "\x00", "x" * 600, "中文", "'", "ONT-1", "SPL-JZ-2B:2", "RSV-1"]
    rng = random.Random(18)
    for _ in range(60):
        src, dst, new = (rng.choice(junk) for _ in range(3))
        key = rng.choice([ENGINEER, PARTNER_TT, CRM])
        move = {"type": rng.choice(["FED_BY", "USES", "HOLDS"]), "src": src, "dst": dst}
        move["newDst" if rng.random() < 0.7 else "newSrc"] = new
        got = _repoint(api, key, moves=[move], accept=True, reason="x")
        assert got["__typename"] in ("NotFound", "ValidationError", "Forbidden"), got
        got = api.data(DELETE, key=key, edges=[{"type": move["type"], "src": src, "dst": dst}])
        assert got["deleteEdges"]["__typename"] in ("NotFound", "ValidationError", "Forbidden")
    assert graph_of(demo_store) == before
