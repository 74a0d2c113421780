"""Issue 17 items 2 and "Bad input": listeners over GraphQL. CRM and partners register callbacks,
see their own (an admin every one), unregister them; the secret is shown once; admins see and
replay dead letters. Every refused registration is a typed error naming the field and writes
nothing. On each store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.hub.service import Caller, HubService
from pboss.inventory.listeners import DeadLetter, DeliveryReport
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api, api_settings
from tests.api.test_events import order_flow

ALLOWED = ["crm.example.com", "127.0.0.1:9000", "*.partners.example.net"]
CALLBACK = "https://crm.example.com/pboss/events"

LISTENER = """
  id callback types owner { role partner name } createdAt state batchSize cursor sequence delivered
  dead lag lastError lastDeliveredAt leaseHolder leaseUntil
  filter { types subjects sites products partner }
"""
REGISTER = f"""mutation($input: RegisterListenerInput!) {{
  registerListener(input: $input) {{
    __typename
    ... on ListenerRegistered {{ secret listener {{ {LISTENER} }} }}
    ... on InvalidListener {{ code message field }}
    ... on Forbidden {{ code message role }}
  }}
}}"""
LISTENERS = f"query {{ listeners {{ {LISTENER} }} }}"
ONE = f"""query($id: ID!) {{ listener(id: $id) {{
  __typename ... on Listener {{ {LISTENER} }} ... on NotFound {{ code id kind }} }} }}"""
UNREGISTER = """mutation($id: ID!) { unregisterListener(id: $id) {
  __typename ... on Listener { id callback } ... on NotFound { code id } } }"""
DEAD = """query($listener: ID, $states: [DeadLetterState!], $first: Int = 20) {
  deadLetters(listener: $listener, states: $states, first: $first) {
    __typename
    ... on DeadLetterConnection { items { id listener sequence cursor eventId eventType reason
                                     attempts state replays } }
    ... on NotFound { code id }
    ... on ValidationError { code issues { item reason } }
  }
}"""
REPLAY = """mutation($ids: [ID!]!) { replayDeadLetters(ids: $ids) {
  __typename
  ... on DeadLetterConnection { items { id state replays } }
  ... on Forbidden { code role }
  ... on ValidationError { code issues { item reason } }
} }"""


@pytest.fixture
def api(demo_store: GraphStore) -> Iterator[Api]:
    """The app on the reference network with an allow-list for callbacks, on each store."""
    settings = api_settings(hub_allowed_hosts=ALLOWED)
    with TestClient(create_app(settings, store=demo_store)) as client:
        yield Api(client)


def register(api: Api, key: str = CRM, **fields: Any) -> dict[str, Any]:
    """One registerListener answer."""
    return api.data(REGISTER, key=key, input={"callback": CALLBACK, **fields})["registerListener"]


def listeners(api: Api, key: str = ADMIN) -> list[dict[str, Any]]:
    """The listeners a key sees (an admin: every one)."""
    return api.data(LISTENERS, key=key)["listeners"]


def test_crm_registers_a_listener_and_sees_it_without_its_secret(api: Api) -> None:
    order_flow(api, "HB1")  # three events before: a new listener starts after them
    made = register(
        api,
        types=["ProductOrderStateChangeEvent"],
        filter={"sites": ["B-JZ"], "products": ["FTTH-100M"]},
    )
    assert made["__typename"] == "ListenerRegistered", made
    secret, shown = made["secret"], made["listener"]
    assert len(secret) >= 32
    assert shown["callback"] == CALLBACK and shown["state"] == "ACTIVE"
    assert shown["types"] == ["ProductOrderStateChangeEvent"]
    assert shown["filter"] == {
        "types": ["ProductOrderStateChangeEvent"],
        "subjects": None,
        "sites": ["B-JZ"],
        "products": ["FTTH-100M"],
        "partner": None,
    }
    assert shown["owner"]["role"] == "crm" and shown["owner"]["partner"] is None
    assert shown["sequence"] == 3 and shown["lag"] == 0  # hears what happens from now on
    assert (shown["delivered"], shown["dead"], shown["leaseHolder"]) == (0, 0, None)
    order_flow(api, "HB2")
    response = api.post(LISTENERS, key=CRM)
    assert secret not in response.text
    [seen] = response.json()["data"]["listeners"]
    assert seen["id"] == shown["id"] and seen["lag"] == 3
    one = api.data(ONE, key=CRM, id=shown["id"])["listener"]
    assert one["__typename"] == "Listener" and one["cursor"] == shown["cursor"]
    fields = api.data('{ __type(name: "Listener") { fields { name } } }', key=CRM)
    assert "secret" not in {f["name"] for f in fields["__type"]["fields"]}


def test_the_app_builds_one_hub_service_the_api_uses(api: Api) -> None:
    hub = api.client.app.state.pboss["hub_service"]  # type: ignore[attr-defined]
    assert isinstance(hub, HubService)
    made = register(api)["listener"]["id"]
    assert [ls.id for ls in hub.listeners(Caller(role="crm"))] == [made]


def test_a_batch_size_is_opt_in_and_shown_on_the_listener(api: Api) -> None:
    plain = register(api)["listener"]
    batched = register(api, batchSize=50)["listener"]
    assert (plain["batchSize"], batched["batchSize"]) == (1, 50)
    shown = {ls["id"]: ls["batchSize"] for ls in listeners(api)}
    assert shown == {plain["id"]: 1, batched["id"]: 50}


def test_a_given_secret_is_kept_and_types_default_to_all_the_role_may_receive(api: Api) -> None:
    made = register(api, secret="s" * 20)
    assert made["secret"] == "s" * 20
    wanted = {"ProductOrderCreateEvent", "ProductOrderMilestoneEvent"}
    assert set(made["listener"]["types"]) >= wanted


def test_each_caller_sees_and_removes_only_its_own_listeners(api: Api) -> None:
    crm = register(api)["listener"]["id"]
    tt = register(api, key=PARTNER_TT, callback="https://tt.partners.example.net/hook")
    assert tt["__typename"] == "ListenerRegistered", tt
    assert tt["listener"]["filter"]["partner"] == "P-TT"  # bound to its own events
    assert tt["listener"]["owner"] == {
        "role": "partner",
        "partner": "P-TT",
        "name": tt["listener"]["owner"]["name"],
    }
    tt_id = tt["listener"]["id"]
    assert [ls["id"] for ls in listeners(api, CRM)] == [crm]
    assert [ls["id"] for ls in listeners(api, PARTNER_TT)] == [tt_id]
    assert listeners(api, PARTNER_OC) == [] and listeners(api, ENGINEER) == []
    assert sorted(ls["id"] for ls in listeners(api, ADMIN)) == sorted([crm, tt_id])
    hidden = api.data(ONE, key=PARTNER_OC, id=tt_id)["listener"]
    assert (hidden["__typename"], hidden["id"], hidden["kind"]) == ("NotFound", tt_id, "Listener")
    refused = api.data(UNREGISTER, key=CRM, id=tt_id)["unregisterListener"]
    assert refused["__typename"] == "NotFound"
    assert len(listeners(api)) == 2  # nothing removed
    gone = api.data(UNREGISTER, key=PARTNER_TT, id=tt_id)["unregisterListener"]
    assert gone == {"__typename": "Listener", "id": tt_id, "callback": tt["listener"]["callback"]}
    assert [ls["id"] for ls in listeners(api)] == [crm]
    again = api.data(UNREGISTER, key=PARTNER_TT, id=tt_id)["unregisterListener"]
    assert again["__typename"] == "NotFound"
    assert api.data(UNREGISTER, key=ADMIN, id=crm)["unregisterListener"]["id"] == crm
    assert listeners(api) == []


BAD = [
    ({"callback": "ftp://crm.example.com/x"}, "callback", "http or https"),
    ({"callback": "javascript:alert(1)"}, "callback", "http or https"),
    ({"callback": "https://evil.example.org/x"}, "callback", "allow-list"),
    ({"callback": "http://127.0.0.1:8080/x"}, "callback", "allow-list"),  # wrong port
    ({"callback": "https://crm.example.com:99999/x"}, "callback", "malformed"),
    ({"callback": "https://user:pw@crm.example.com/x"}, "callback", "credentials"),
    ({"callback": "https:///nohost"}, "callback", "no host"),
    ({"callback": "https://crm.example.com/" + "a" * 3000}, "callback", "longer"),
    ({"types": ["NoSuchEvent"]}, "types", "unknown event type"),
    ({"types": []}, "types", "at least one"),
    ({"types": ["ProductOrderCreateEvent"] * 101}, "types", "1 to 100"),
    ({"filter": {"subjects": []}}, "filter.subjects", "1 to 100"),
    ({"filter": {"sites": [f"S-{i}" for i in range(101)]}}, "filter.sites", "1 to 100"),
    ({"filter": {"products": ["x" * 201]}}, "filter.products", "characters"),
    ({"secret": "short"}, "secret", "16 to 256"),
    ({"secret": "s" * 257}, "secret", "16 to 256"),
    ({"batchSize": 0}, "batchSize", "batchSize is 1 (one event per POST) to 100"),
    ({"batchSize": 101}, "batchSize", "got 101"),
]


@pytest.mark.parametrize(("fields", "field", "reason"), BAD)
def test_bad_registrations_name_the_field_and_write_nothing(
    api: Api, fields: dict[str, Any], field: str, reason: str
) -> None:
    register(api)  # one listener already there: the refusal must leave exactly it
    before = listeners(api)
    refused = register(api, **fields)
    assert refused["__typename"] == "InvalidListener", refused
    assert refused["field"] == field and reason in refused["message"], refused
    assert refused["code"] == "INVALID_LISTENER"
    assert listeners(api) == before


def test_a_partner_cannot_filter_on_another_partner_or_crm_on_unknown_hosts(api: Api) -> None:
    before = listeners(api)
    other = register(
        api,
        key=PARTNER_TT,
        callback="https://tt.partners.example.net/hook",
        filter={"partner": "P-OC"},
    )
    assert other["__typename"] == "InvalidListener", other
    assert (other["field"], other["code"]) == ("filter.partner", "NOT_VISIBLE")
    assert listeners(api) == before
    own = register(
        api,
        key=PARTNER_TT,
        callback="https://tt.partners.example.net/hook",
        filter={"partner": "P-TT"},
    )
    assert own["__typename"] == "ListenerRegistered"


def test_the_hub_refuses_listeners_beyond_its_maximum(demo_store: GraphStore) -> None:
    settings = api_settings(hub_allowed_hosts=ALLOWED, hub_max_listeners=2)
    with TestClient(create_app(settings, store=demo_store)) as client:
        api = Api(client)
        register(api)
        register(api)
        refused = register(api)
        assert refused["__typename"] == "InvalidListener" and "maximum" in refused["message"]
        assert len(listeners(api)) == 2


def dead_letter(store: GraphStore, listener: str, seq: int, n: int) -> str:
    """Record, as a deliverer would, that event `seq` went dead for a listener; its id."""
    now = datetime.now(UTC)
    [held] = store.claim_listeners("test", now=now, until=now + timedelta(seconds=30), limit=1)
    assert held.id == listener
    letter = DeadLetter(
        id=f"DL-{n}",
        listener=listener,
        seq=seq,
        event_id=f"EV-{n}",
        event_type="ProductOrderStateChangeEvent",
        reason="HTTP 500 from the callback",
        attempts=8,
        at=now,
    )
    report = DeliveryReport(cursor=seq, lease_until=now + timedelta(seconds=30), dead=[letter])
    assert store.record_delivery(listener, "test", report)
    store.release_listener(listener, "test")
    return letter.id


def test_dead_letters_are_listed_to_their_owner_and_replayed_by_an_admin(
    api: Api, demo_store: GraphStore
) -> None:
    crm = register(api)["listener"]["id"]
    order_flow(api, "DL1")
    letter = dead_letter(demo_store, crm, 2, 1)
    mine = api.data(DEAD, key=CRM)["deadLetters"]
    assert [d["id"] for d in mine["items"]] == [letter]
    [item] = mine["items"]
    assert (item["listener"], item["sequence"], item["state"]) == (crm, 2, "DEAD")
    assert item["attempts"] == 8 and "500" in item["reason"]
    assert api.data(DEAD, key=PARTNER_TT)["deadLetters"]["items"] == []
    hidden = api.data(DEAD, key=PARTNER_TT, listener=crm)["deadLetters"]
    assert hidden["__typename"] == "NotFound"
    assert api.data(DEAD, key=CRM, first=0)["deadLetters"]["__typename"] == "ValidationError"
    shown = api.data(ONE, key=CRM, id=crm)["listener"]
    assert (shown["dead"], shown["sequence"]) == (1, 2)
    refused = api.data(REPLAY, key=CRM, ids=[letter])["replayDeadLetters"]
    assert refused == {"__typename": "Forbidden", "code": "FORBIDDEN", "role": "crm"}
    missing = api.data(REPLAY, key=ADMIN, ids=["DL-NOPE"])["replayDeadLetters"]
    assert missing["__typename"] == "ValidationError"
    assert missing["issues"][0]["item"] == "ids" and "DL-NOPE" in missing["issues"][0]["reason"]
    queued = api.data(REPLAY, key=ADMIN, ids=[letter])["replayDeadLetters"]
    assert queued["items"] == [{"id": letter, "state": "REPLAY", "replays": 1}]
    waiting = api.data(DEAD, key=ADMIN, states=["REPLAY"], listener=crm)["deadLetters"]
    assert [d["id"] for d in waiting["items"]] == [letter]
    assert api.data(DEAD, key=ADMIN, states=["DEAD"])["deadLetters"]["items"] == []
