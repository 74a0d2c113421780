"""Riders fetch only the properties the selection shows, and answer exactly as with whole elements.

`riders` and `impact` pass the store the properties their selection reads of services and
customers (`RiderFields`); on Neo4j the page then carries only those. These tests check that the
store is asked for the right ones, that every field of a rider's service and customer answers the
same as when the whole elements are fetched (a selection with `attrs` forces that), on both
stores and for every role, and that partners still see no service or customer.
"""

from __future__ import annotations

from typing import Any

import graphql
import pytest
from fastapi.testclient import TestClient
from strawberry.types import get_object_definition

from pboss.graphql.inventory import types as t
from pboss.graphql.schema import build_schema
from pboss.http.app import create_app
from pboss.inventory.demo import demo_network
from pboss.inventory.model import Customer, Service
from pboss.inventory.results import RIDER_CORE, RiderFields
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api, api_settings

#: Every field of Service and Customer, resolvers included (objects by a leaf or two).
ELEMENT_FIELDS = """
  __typename id kind name owner spec status isPartner siteId
  state { administrativeState operationalState usageState resourceStatus }
  site { id name } partner { id } history { toStatus reason }
  dependencies { type node { id } } dependants { type node { id } }
"""


def _all_fields(extra: str) -> str:
    """Every field of a rider's service and customer, plus `extra` on both."""
    return f"""
query Riders($ids: [ID!]!, $first: Int!) {{
  impact(resources: $ids, first: $first) {{
    __typename
    ... on RiderConnection {{
      totalCount
      edges {{ cursor node {{ product health impairedBy
        service {{ {ELEMENT_FIELDS} product serviceType catalogProduct {{ id name }} {extra} }}
        customer {{ {ELEMENT_FIELDS} customerType slaTier phone address {extra} }} }} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""


PROJECTED, WHOLE = _all_fields(""), _all_fields("attrs")  # attrs may read any property

PHONE = """
query Phones($id: ID!) {
  riders(resource: $id) {
    __typename
    ... on RiderConnection { edges { node { service { id } ...Reach } } }
  }
}
fragment Reach on Rider { customer { ... on Element { id } ... on Customer { phone address } } }
"""
RESOURCES = ["OLT-1", "OLT-2", "TS-2", "PA-DH-OC", "SVC-H4-BB"]


class _Spy:
    """A store recording the `fields` each riders call is given."""

    def __init__(self, inner: GraphStore):
        self.inner = inner  # the name wrappers expose, so provisioning finds the real store
        self.asked: list[RiderFields | None] = []

    def riders(self, *args: Any, fields: RiderFields | None = None, **kwargs: Any) -> Any:
        self.asked.append(fields)
        return self.inner.riders(*args, fields=fields, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def spied(demo_store: GraphStore) -> Any:
    """The app over HTTP on a store recording what riders are asked to fetch, with a service and
    a customer carrying every optional property (so a projection leaving one out would show)."""
    svc = demo_store.get("SVC-H1-BB")
    cust = demo_store.get("H-1")
    assert isinstance(svc, Service) and isinstance(cust, Customer)
    svc = svc.model_copy(update={"name": "宽带 1", "service_type": "ftth"})
    cust = cust.model_copy(update={"attrs": {"floor": 3}})
    svc.attrs = {"vlan": 100}
    demo_store.upsert([svc, cust], actor="test", reason="more properties")
    demo_store.set_status("H-2", "maintenance", actor="test", reason="history")
    demo_store.set_status("SVC-H2-BB", "maintenance", actor="test", reason="degraded")
    spy = _Spy(demo_store)
    with TestClient(create_app(api_settings(), store=spy)) as client:  # type: ignore[arg-type]
        yield Api(client), spy


def _without(data: Any, keys: set[str]) -> Any:
    """The answer without these keys, at any depth."""
    if isinstance(data, dict):
        return {k: _without(v, keys) for k, v in data.items() if k not in keys}
    if isinstance(data, list):
        return [_without(v, keys) for v in data]
    return data


@pytest.mark.parametrize("key", [ENGINEER, CRM, ADMIN, PARTNER_OC])
def test_every_field_answers_as_with_whole_elements(spied: Any, key: str) -> None:
    api, spy = spied
    resources = ["PA-DH-OC"] if key == PARTNER_OC else RESOURCES
    for first in (1, 50):
        projected = api.data(PROJECTED, key, ids=resources, first=first)
        whole = api.data(WHOLE, key, ids=resources, first=first)
        # attrs: what the whole-element request asked for besides; a partner's cursors are
        # sealed with a fresh nonce each time
        sealed = {"cursor", "endCursor"} if key == PARTNER_OC else set()
        assert _without(projected, sealed) == _without(whole, {"attrs", *sealed})
        edges = projected["impact"]["edges"]
        if key == PARTNER_OC:
            assert [(e["node"]["service"], e["node"]["customer"]) for e in edges] == [(None, None)]
        else:
            assert projected["impact"]["totalCount"] == 10
            assert len(edges) == min(first, 10)
    # the first request of each pair was projected, the second (with attrs) whole
    assert spy.asked[1::2] == [None, None]
    service, customer = spy.asked[0]  # type: ignore[misc]
    assert service >= {"id", "name", "owner", "spec", "status", "site", "product", "service_type"}
    if key == PARTNER_OC:  # a partner never sees a customer: nothing of one is fetched
        assert customer == frozenset()
    else:
        assert customer >= {"name", "phone", "address", "customer_type", "sla_tier", "spec"}


#: Each field of an element type on its own (objects by a leaf or two), then each kind's own.
ONE_FIELD = [
    "kind", "name", "owner", "spec", "status", "isPartner", "siteId",
    "state { administrativeState operationalState usageState resourceStatus }",
    "site { id name }", "partner { id }", "history { toStatus reason }",
    "dependencies { type node { id } }", "dependants { type node { id } }",
]  # fmt: skip
ONE_OF = {
    "service": [*ONE_FIELD, "product", "serviceType", "catalogProduct { id name }"],
    "customer": [*ONE_FIELD, "customerType", "slaTier", "phone", "address"],
}


def test_one_field_lists_every_field_of_services_and_customers() -> None:
    schema = graphql.build_schema(build_schema(api_settings()).as_str())
    for element, selections in ONE_OF.items():
        listed = {selection.split()[0] for selection in selections}
        fields = set(schema.type_map[element.capitalize()].fields) - {"id", "attrs"}  # type: ignore[union-attr]
        assert listed == fields, element


@pytest.mark.parametrize(
    ("element", "selection"),
    [(element, selection) for element, selections in ONE_OF.items() for selection in selections],
)
def test_each_field_alone_answers_as_with_whole_elements(
    spied: Any, element: str, selection: str
) -> None:
    """Each field fetches what it reads by itself (no other field of the selection fetching it
    for it), checked on elements whose stored values differ from the models' defaults: a
    partner's service at a site, in maintenance, and a customer another partner owns."""
    api, spy = spied
    store = spy.inner
    svc, cust = store.get("SVC-H1-BB"), store.get("H-1")
    assert svc is not None and cust is not None
    moved = [
        svc.model_copy(update={"owner": "P-OC", "site": "B-JZ"}),
        cust.model_copy(update={"owner": "P-TT"}),
    ]
    store.upsert(moved, actor="test", reason="not the defaults")
    store.set_status("SVC-H1-BB", "maintenance", actor="test", reason="not the default")
    query = """query R($ids: [ID!]!) { impact(resources: $ids, first: 50) {
        ... on RiderConnection { edges { node { %s { id %s } } } } } }"""
    projected = api.data(query % (element, selection), ids=RESOURCES)
    whole = api.data(query % (element, selection + " attrs"), ids=RESOURCES)
    assert projected == _without(whole, {"attrs"})
    assert spy.asked[0] is not None and spy.asked[1] is None
    nodes = [e["node"][element] for e in projected["impact"]["edges"]]
    assert {"SVC-H1-BB", "H-1"} & {n["id"] for n in nodes if n}


def test_the_projected_page_shows_every_property_it_has(spied: Any) -> None:
    api, _ = spied
    edges = api.data(PROJECTED, ids=["SPL-JZ-2A"], first=5)["impact"]["edges"]
    first, second, third = (e["node"] for e in edges)
    assert first["service"]["name"] == "宽带 1" and first["service"]["spec"] is None
    assert first["service"]["serviceType"] == "ftth"
    assert first["service"]["catalogProduct"]["id"] == "FTTH-100M"
    assert (
        first["customer"]["phone"] == "13811111111" and first["customer"]["slaTier"] == "standard"
    )
    assert first["customer"]["site"] == {"id": "B-JZ", "name": "财富国际金座"}
    assert second["service"]["name"] == ""
    assert third["service"]["status"] == "MAINTENANCE" and third["health"] == "DEGRADED"
    assert third["impairedBy"] == ["SVC-H2-BB"]
    # newest first: the status change, then the customer's creation and its services' FOR edges
    assert third["customer"]["history"][0] == {"toStatus": "maintenance", "reason": "history"}


def test_the_projection_asks_for_what_the_bench_page_shows(spied: Any) -> None:
    api, spy = spied
    query = """query R($id: ID!) { riders(resource: $id, first: 50) { ... on RiderConnection {
        totalCount edges { cursor node { health impairedBy product service { id }
        customer { id name } } } } } }"""
    data = api.data(query, id="OLT-1")
    assert [e["node"]["customer"]["name"] for e in data["riders"]["edges"]] == [
        "张伟", "张伟", "王芳", "李娜", "李娜",
    ]  # fmt: skip
    assert spy.asked == [RiderFields(frozenset({"id"}), frozenset({"id", "name"}))]
    assert set(RIDER_CORE) == {"id", "kind"}  # nothing else for roles that see every element


def test_a_partners_projection_also_fetches_what_its_view_reads(spied: Any) -> None:
    """A partner's view depends on each element's owner (`can_see`), so its projected page
    carries that whatever the selection shows: a service the partner owns is shown to it."""
    api, spy = spied
    store = spy.inner
    svc = store.get("SVC-H5-CB")
    assert svc is not None and svc.owner == "self"
    store.upsert([svc.model_copy(update={"owner": "P-OC"})], actor="test", reason="partner's")
    query = """query R($id: ID!) { riders(resource: $id, first: 50) { ... on RiderConnection {
        edges { node { service { id } customer { id } } } } } }"""
    data = api.data(query, PARTNER_OC, id="PA-DH-OC")
    nodes = [e["node"] for e in data["riders"]["edges"]]
    assert nodes == [{"service": {"id": "SVC-H5-CB"}, "customer": None}]
    assert spy.asked == [RiderFields(frozenset({"id", "owner"}), frozenset())]
    api.data(query, ENGINEER, id="PA-DH-OC")
    assert spy.asked[1] == RiderFields(frozenset({"id"}), frozenset({"id"}))


def test_a_totals_only_selection_fetches_no_property_beyond_the_core(spied: Any) -> None:
    api, spy = spied
    data = api.data(
        'query { riders(resource: "OLT-1") { ... on RiderConnection { totalCount '
        "totals { customers } } } }"
    )
    assert data["riders"] == {"totalCount": 5, "totals": {"customers": 3}}
    assert spy.asked == [RiderFields(frozenset(), frozenset())]


def test_phones_through_fragments_are_still_fetched(spied: Any) -> None:
    api, spy = spied
    data = api.data(PHONE, id="SPL-JZ-2A")
    customers = [e["node"]["customer"] for e in data["riders"]["edges"]]
    assert customers == [
        {"id": "H-1", "phone": "13811111111", "address": "B-JZ 1号"},
        {"id": "H-1", "phone": "13811111111", "address": "B-JZ 1号"},
        {"id": "H-2", "phone": "13822222222", "address": "B-JZ 1号"},
    ]
    assert spy.asked[0] is not None and {"phone", "address"} <= spy.asked[0].customer


@pytest.mark.parametrize("key", [PARTNER_TT, PARTNER_OC])
def test_partners_still_get_no_service_or_customer(spied: Any, key: str) -> None:
    api, spy = spied
    data = api.data(PHONE, key, id="PA-DH-OC")
    if key == PARTNER_TT:  # another partner's pool: not found, the store is not asked
        assert data["riders"]["__typename"] == "NotFound"
        assert spy.asked == []
        return
    nodes = [e["node"] for e in data["riders"]["edges"]]
    assert nodes == [{"service": None, "customer": None}]
    # a partner never sees a customer: none of a customer's properties leaves the store
    assert spy.asked[0] is not None and spy.asked[0].customer == frozenset()


def test_a_field_that_may_read_anything_fetches_whole_elements(spied: Any) -> None:
    api, spy = spied
    query = """query { riders(resource: "OLT-1", first: 1) { ... on RiderConnection {
        edges { node { service { id attrs } customer { id } } } } } }"""
    data = api.data(query)
    assert data["riders"]["edges"][0]["node"]["service"] == {
        "id": "SVC-H1-BB",
        "attrs": {"vlan": 100},
    }
    assert spy.asked == [None]


def test_every_resolver_field_of_an_element_type_says_what_it_reads() -> None:
    """A resolver added to an element type must say which properties it reads (RESOLVER_READS),
    or be known to read any of them: else a projected page would answer with defaults."""
    may_read_anything = {"attrs", "fields"}
    for cls in t.ELEMENT_TYPES:
        for f in get_object_definition(cls, strict=True).fields:
            if f.base_resolver is None:
                continue
            reads = t.element_reads(cls, f.python_name)
            if f.python_name in may_read_anything:
                assert reads is None, (cls.__name__, f.python_name)
            else:
                assert reads is not None, (cls.__name__, f.python_name)


def test_to_type_shows_every_plain_field_of_its_element(demo_store: GraphStore) -> None:
    """Each kind's GraphQL object shows its plain fields as the stored element holds them, under
    their GraphQL names (`region_id` is the element's `region`)."""
    elements = demo_store.get_many([n.id for n in demo_network()[0]]).values()
    assert {el.kind for el in elements} >= {"Service", "Customer", "Site", "OLT", "Splitter"}
    for el in elements:
        obj = t.to_type(el)
        cls = type(obj)
        assert cls is t.KIND_TYPES[el.kind]
        assert (obj._el, obj.kind) == (el, el.kind)
        for f in get_object_definition(cls, strict=True).fields:
            if f.base_resolver is None and f.python_name not in ("_el", "kind"):
                attr = "region" if f.python_name == "region_id" else f.python_name
                assert getattr(obj, f.python_name) == getattr(el, attr), (el.id, f.python_name)
    site = next(el for el in elements if el.kind == "Site" and el.region)  # type: ignore[attr-defined]
    assert t.to_type(site).region_id == site.region  # type: ignore[attr-defined]
