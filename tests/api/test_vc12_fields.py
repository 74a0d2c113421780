"""Trunk sections and partner links answer their VC-12 use (`vc12Used`, `vc12Held`, `vc12Free`
beside `capacityVc12`) without adding up `dependants { slots }`, for a whole page in one store
call, on both stores."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, ENGINEER, PARTNER_TT, Api
from tests.api.test_batching import _calls_of
from tests.provisioning.conftest import add, add_ports

USE = "capacityVc12 vc12Used vc12Held vc12Free"
PAGE = f"""query($kind: String!) {{ elements(kind: $kind, first: 50) {{ edges {{ node {{
    id ... on TransportSegment {{ {USE} }} }} }} }} }}"""
WITH_DEPENDANTS = f"""query($kind: String!) {{ elements(kind: $kind, first: 50) {{ edges {{ node {{
    id ... on TransportSegment {{ {USE}
      dependants(types: [ROUTED_OVER, HOLDS]) {{ type slots }} }} }} }} }} }}"""
SUBMIT = """mutation($input: SubmitOrderInput!) {
  submitOrder(input: $input) { ... on Order { id } } }"""
RESERVE = "mutation($id: ID!) { reserve(orderId: $id) { __typename ... on Reservation { id } } }"


def _use(node: dict[str, Any]) -> tuple[int, int, int, int]:
    return node["capacityVc12"], node["vc12Used"], node["vc12Held"], node["vc12Free"]


def _page(api: Api, kind: str, query: str = PAGE, key: str = ENGINEER) -> dict[str, Any]:
    edges = api.data(query, key=key, kind=kind)["elements"]["edges"]
    return {e["node"]["id"]: e["node"] for e in edges}


def test_used_held_and_free_match_what_rides_on_each_link(api: Api, demo_store: GraphStore) -> None:
    for ne, site in (("NE-A", "CP-XX"), ("NE-1", "EX-1")):
        add_ports(demo_store, ne, site, "PORT-GE", 2, "GE")
    order = {"crmOrderId": "V1", "product": "MSTP-LL", "aSite": "CP-XX", "zSite": "EX-1",
             "bandwidth2m": 3, "customer": "E-V1"}  # fmt: skip
    made = api.data(SUBMIT, key=CRM, input=order)["submitOrder"]["id"]
    assert api.data(RESERVE, key=CRM, id=made)["reserve"]["__typename"] == "Reservation"

    trunks = _page(api, "TrunkSection", WITH_DEPENDANTS)
    links = _page(api, "PartnerLink", WITH_DEPENDANTS)

    assert _use(trunks["TS-1"]) == (63, 2, 3, 58)  # CIR-1 on 1-2, the new hold on 3-5
    assert _use(trunks["TS-2"]) == (252, 6, 0, 246)  # CIR-1 and CIR-2
    assert _use(links["PL-1"]) == (63, 2, 0, 61)
    for node in [*trunks.values(), *links.values()]:  # the sums one had to do by hand
        by_type = Counter()
        for dep in node["dependants"]:
            by_type[dep["type"]] += len(dep["slots"] or [])
        assert (node["vc12Used"], node["vc12Held"]) == (by_type["ROUTED_OVER"], by_type["HOLDS"])
        assert node["vc12Free"] == node["capacityVc12"] - node["vc12Used"] - node["vc12Held"]


def test_a_page_of_links_reads_their_use_in_one_store_call(
    api: Api, demo_store: GraphStore
) -> None:
    extra = [{"kind": "TrunkSection", "id": f"TS-X{i:02}", "spec": "TRUNK-STM4"} for i in range(30)]
    add(demo_store, extra, [])

    calls = _calls_of(api, PAGE, kind="TrunkSection")

    assert calls == Counter({"find": 1, "slot_use": 1}), calls  # not one call per link
    page = _page(api, "TrunkSection")
    assert len(page) == 32 and _use(page["TS-X07"]) == (252, 0, 0, 252)


def test_a_partner_sees_the_use_of_its_own_link(api: Api) -> None:
    got = api.data(
        f'{{ element(id: "PL-1") {{ ... on PartnerLink {{ id {USE} }} }} }}', key=PARTNER_TT
    )["element"]
    assert got["id"] == "PL-1" and _use(got) == (63, 2, 0, 61)
