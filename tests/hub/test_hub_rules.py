"""The hub's rules (`pboss.hub.service`): who may register what, see which listeners, replay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pboss.config import Settings
from pboss.hub import catalog
from pboss.hub.service import Caller, HubForbidden, HubRefused, HubService, ListenerNotFound
from pboss.inventory.events import EventFilter, NewEvent
from pboss.inventory.listeners import DeadLetter, DeadLetterState, DeliveryReport
from pboss.inventory.store import GraphStore
from pboss.provisioning.events import MILESTONE, STATE_CHANGE

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CRM = Caller("crm", "crm-system")
ADMIN = Caller("admin", "ops")
TIETONG = Caller("partner", "tt", "PARTNER-TIETONG")
CB = "http://127.0.0.1:9911/events"


@pytest.fixture
def hub(store: GraphStore) -> HubService:
    settings = Settings(hub_allowed_hosts=["127.0.0.1"], hub_max_listeners=3, _env_file=None)
    return HubService(store, settings, clock=lambda: AT)


def test_a_listener_gets_every_type_its_role_may_see_and_a_secret_shown_once(
    hub: HubService,
) -> None:
    listener, secret = hub.register(CRM, CB)
    assert listener.where.types == catalog.visible_types("crm")
    assert listener.secret == "" and len(secret) >= 40
    assert hub.store.get_listener(listener.id).secret == secret  # kept to sign with
    assert [ls.id for ls in hub.listeners(CRM)] == [listener.id]
    assert all(ls.secret == "" for ls in hub.listeners(CRM))


def test_a_new_listener_starts_at_the_end_of_the_log(hub: HubService) -> None:
    for n in range(3):
        ev = NewEvent(id=f"e{n}", type=STATE_CHANGE, at=AT, subject="ORD-1")
        hub.store.transact(lambda tx, ev=ev: tx.emit(ev), actor="t", reason="t")
    listener, _ = hub.register(CRM, CB, types=[STATE_CHANGE])
    assert listener.cursor == 3


def test_a_partner_listener_is_bound_to_its_own_events(hub: HubService) -> None:
    listener, _ = hub.register(TIETONG, CB, types=[MILESTONE])
    assert listener.where.partner == "PARTNER-TIETONG"
    with pytest.raises(HubForbidden, match="another partner"):
        hub.register(TIETONG, CB, where=EventFilter(partner="PARTNER-OTHER"))
    assert hub.listeners(CRM) == []  # CRM does not see the partner's listener
    assert [ls.id for ls in hub.listeners(ADMIN)] == [listener.id]
    with pytest.raises(ListenerNotFound):
        hub.unregister(CRM, listener.id)


@pytest.mark.parametrize(
    ("kwargs", "field", "why"),
    [
        ({"callback": "ftp://127.0.0.1/"}, "callback", "http or https"),
        ({"callback": "http://10.0.0.1/"}, "callback", "allow-list"),
        ({"types": []}, "types", "at least one"),
        ({"types": ["NoSuchEvent"]}, "types", "unknown event type"),
        ({"secret": "short"}, "secret", "16 to 256"),
        ({"where": EventFilter(sites=[])}, "sites", "1 to 100"),
        ({"where": EventFilter(products=[f"p{i}" for i in range(101)])}, "products", "1 to 100"),
    ],
)
def test_bad_registrations_name_the_field_and_write_nothing(
    hub: HubService, kwargs: dict, field: str, why: str
) -> None:
    kwargs = dict(kwargs)  # the parameters are shared by both stores
    callback = kwargs.pop("callback", CB)
    with pytest.raises(HubRefused, match=why) as caught:
        hub.register(CRM, callback, **kwargs)
    assert caught.value.field == field
    assert hub.store.list_listeners() == []


def test_types_a_role_may_not_receive_are_forbidden(hub: HubService) -> None:
    catalog.register_event_type("SecretOpsEvent", frozenset({"admin"}))
    try:
        with pytest.raises(HubForbidden, match="SecretOpsEvent"):
            hub.register(CRM, CB, types=["SecretOpsEvent"])
        assert hub.register(ADMIN, CB, types=["SecretOpsEvent"])[0].where.types == [
            "SecretOpsEvent"
        ]
    finally:
        del catalog.EVENT_ROLES["SecretOpsEvent"]
    with pytest.raises(HubForbidden):
        hub.register(Caller("guest"), CB)


def test_the_hub_refuses_listeners_beyond_its_maximum(hub: HubService) -> None:
    for _ in range(3):
        hub.register(CRM, CB)
    with pytest.raises(HubRefused, match="maximum of 3"):
        hub.register(CRM, CB)


def test_only_an_admin_replays_dead_letters_and_callers_see_their_own(hub: HubService) -> None:
    mine, _ = hub.register(CRM, CB)
    theirs, _ = hub.register(TIETONG, CB)
    store = hub.store
    later = datetime(2100, 1, 1, tzinfo=UTC)  # leases held for the whole test
    held = {h.id for h in store.claim_listeners("w", now=AT, until=later, limit=10)}
    assert held == {mine.id, theirs.id}
    for ls in (mine, theirs):
        dead = DeadLetter(
            id=f"DL-{ls.id}",
            listener=ls.id,
            seq=1,
            event_id="e1",
            event_type=STATE_CHANGE,
            reason="HTTP 500",
            attempts=8,
            at=AT,
        )
        report = DeliveryReport(cursor=1, lease_until=later, dead=[dead])
        assert store.record_delivery(ls.id, "w", report)
    assert [d.listener for d in hub.dead_letters(CRM)] == [mine.id]
    assert len(hub.dead_letters(ADMIN)) == 2
    with pytest.raises(ListenerNotFound):
        hub.dead_letters(CRM, listener=theirs.id)
    with pytest.raises(HubForbidden, match="admin"):
        hub.replay(CRM, [f"DL-{mine.id}"])
    with pytest.raises(HubRefused, match="no dead letter"):
        hub.replay(ADMIN, ["DL-nope"])
    with pytest.raises(HubRefused, match=r"no dead letter\(s\) \['DL-nope'\]"):
        hub.replay(ADMIN, [f"DL-{mine.id}", "DL-nope"])  # all or none: the known one waits
    assert {d.state for d in hub.dead_letters(ADMIN)} == {DeadLetterState.DEAD}
    [queued] = hub.replay(ADMIN, [f"DL-{mine.id}"])
    assert (queued.state, queued.replays) == (DeadLetterState.REPLAY, 1)
    removed = hub.unregister(CRM, mine.id)
    assert removed.id == mine.id and hub.dead_letters(ADMIN, listener=None)[0].listener == theirs.id
