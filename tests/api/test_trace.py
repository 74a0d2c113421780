"""Top-down over HTTP: the exact ordered hops of a circuit, an FTTH service, a partner service
and all of a customer's services, with owner, status and capacity use."""

from __future__ import annotations

from tests.api.conftest import Api

TRACE = """
query Trace($id: ID!) {
  trace(id: $id) {
    __typename
    ... on Trace { ...path }
    ... on CustomerTrace { customer { id } health traces { ...path } }
    ... on NotFound { id message }
  }
}
fragment path on Trace {
  root { id kind }
  health impairedBy
  hops { position role depth element { id kind } owner isPartner status seq slots
         capacity used free partner { id name } }
}
"""


def _hops(trace: dict) -> list[tuple[str, str]]:
    return [(h["role"], h["element"]["id"]) for h in trace["hops"]]


def test_trace_of_a_circuit_runs_a_end_trunk_z_end(api: Api) -> None:
    trace = api.data(TRACE, id="CIR-1")["trace"]
    assert trace["__typename"] == "Trace" and trace["root"] == {"id": "CIR-1", "kind": "Circuit"}
    assert _hops(trace) == [
        ("a_end", "NE-A"),
        ("a_end", "NE-A/E1-1"),
        ("trunk", "TS-1"),
        ("trunk", "TS-2"),
        ("trunk", "PL-1"),
        ("z_end", "NE-Z/E1-1"),
        ("z_end", "NE-Z"),
    ]
    assert [h["position"] for h in trace["hops"]] == [1, 2, 3, 4, 5, 6, 7]
    trunks = {h["element"]["id"]: h for h in trace["hops"] if h["role"] == "trunk"}
    got = {
        t: (h["seq"], h["slots"], h["used"], h["capacity"], h["free"]) for t, h in trunks.items()
    }
    assert got == {
        "TS-1": (1, [1, 2], 2, 63, 61),
        "TS-2": (2, [5, 6], 6, 252, 246),
        "PL-1": (3, [10, 11], 2, 63, 61),
    }
    owners = [(h["element"]["id"], h["owner"], h["isPartner"]) for h in trace["hops"]]
    assert [o for o in owners if o[2]] == [("PL-1", "P-TT", True)]
    assert trunks["PL-1"]["partner"] == {"id": "P-TT", "name": "中国铁通"}
    assert {h["owner"] for h in trace["hops"] if not h["isPartner"]} == {"self"}
    assert {h["status"] for h in trace["hops"]} == {"AVAILABLE", "IN_USE"}
    assert (trace["health"], trace["impairedBy"]) == ("OK", [])


def test_trace_of_an_ftth_service_climbs_from_ont_to_olt(api: Api) -> None:
    trace = api.data(TRACE, id="SVC-H1-BB")["trace"]
    assert _hops(trace) == [
        ("ont", "ONT-1"),
        ("splitter_port", "SPL-JZ-2A:1"),
        ("splitter", "SPL-JZ-2A"),
        ("splitter_port", "SPL-JZ-1:1"),
        ("splitter", "SPL-JZ-1"),
        ("pon_port", "OLT-1/0/1"),
        ("olt", "OLT-1"),
    ]
    splitters = {
        h["element"]["id"]: (h["used"], h["capacity"])
        for h in trace["hops"]
        if h["role"] == "splitter"
    }
    assert splitters == {"SPL-JZ-2A": (2, 8), "SPL-JZ-1": (2, 4)}
    assert [h["depth"] for h in trace["hops"]] == [1, 2, 3, 4, 5, 6, 7]


def test_trace_of_a_leased_line_service_starts_at_its_circuit(api: Api) -> None:
    trace = api.data(TRACE, id="SVC-E2-LL")["trace"]
    assert _hops(trace) == [
        ("circuit", "CIR-2"),
        ("a_end", "NE-2"),
        ("a_end", "NE-2/E1-1"),
        ("trunk", "TS-2"),
        ("z_end", "NE-1/E1-1"),
        ("z_end", "NE-1"),
    ]


def test_trace_of_a_partner_service_shows_the_partner_pool(api: Api) -> None:
    trace = api.data(TRACE, id="SVC-H5-CB")["trace"]
    [hop] = trace["hops"]
    assert (hop["role"], hop["element"]["id"], hop["owner"]) == (
        "partner_access",
        "PA-DH-OC",
        "P-OC",
    )
    assert (hop["used"], hop["capacity"], hop["free"]) == (40, 100, 60)
    assert hop["partner"]["name"] == "东方有线"


def test_trace_of_a_customer_is_every_service_path(api: Api) -> None:
    got = api.data(TRACE, id="E-2")["trace"]
    assert got["__typename"] == "CustomerTrace" and got["customer"] == {"id": "E-2"}
    assert [t["root"]["id"] for t in got["traces"]] == ["SVC-E2-BB", "SVC-E2-LL"]
    assert _hops(got["traces"][0])[-1] == ("olt", "OLT-2")
    assert _hops(got["traces"][1])[0] == ("circuit", "CIR-2")
    assert got["health"] == "OK"


def test_trace_shows_what_impairs_a_path(api: Api) -> None:
    api.data(
        'mutation { setStatus(id: "PL-1", status: MAINTENANCE, reason: "splice",'
        " acceptImpact: true) { __typename } }"
    )
    trace = api.data(TRACE, id="CIR-1")["trace"]
    assert (trace["health"], trace["impairedBy"]) == ("DEGRADED", ["PL-1"])
    customer = api.data(TRACE, id="E-1")["trace"]
    assert customer["health"] == "DEGRADED"


def test_trace_of_an_unknown_id_is_typed_not_found(api: Api) -> None:
    got = api.data(TRACE, id="NO-SUCH")["trace"]
    assert got == {
        "__typename": "NotFound",
        "id": "NO-SUCH",
        "message": "element 'NO-SUCH' not found",
    }
