"""Units of work (`GraphStore.transact`): every provisioning step gives the same graph on each
store, and a step that writes something the model forbids is refused by the same validation as
`upsert` (`rules.plan_batch`), on each store, with nothing written.

The graph is read back through the protocol's scans, so the comparison is store-independent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.errors import TxConflict, ValidationFailed
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import EDGE_RULES, KINDS, Customer, Edge, Element, parse_node
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import AlreadyExists, GraphTx
from pboss.provisioning import steps
from pboss.provisioning.errors import Conflict
from pboss.provisioning.model import Order
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from tests.provisioning.conftest import T0, Clock, add_ports, ftth, leased

Graph = tuple[dict[str, dict[str, Any]], set[tuple[str, str, str, str]]]


def graph_of(store: GraphStore) -> Graph:
    """Every node's properties and every edge, through the protocol's scans."""
    nodes = {p["id"]: p for kind in sorted(KINDS) for p in store.scan_nodes(kind)}
    edges = {
        (etype, src, dst, repr(sorted(props.items())))
        for etype in sorted(EDGE_RULES)
        for src, dst, props in store.scan_edges(etype)
    }
    return nodes, edges


def network(store: GraphStore) -> GraphStore:
    """The reference network plus free E1 and GE ports on every NE (as tests/provisioning)."""
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    for ne, site in {"NE-A": "CP-XX", "NE-1": "EX-1", "NE-2": "EX-2", "NE-Z": "B-DH"}.items():
        add_ports(store, ne, site, "PORT-E1", 2, "E1F")
        add_ports(store, ne, site, "PORT-GE", 10, "GE")
    return store


def service_on(store: GraphStore, clock: Clock) -> ProvisioningService:
    return ProvisioningService(
        store, notifier=Outbox(), clock=clock, settings=ProvisioningSettings(links_cache_seconds=0)
    )


def every_step(store: GraphStore) -> list[Any]:
    """Create, hold (FTTH and leased line), confirm, release, cancel, construction milestones
    and the expiry sweep; returns what each step answered."""
    clock = Clock()
    svc = service_on(network(store), clock)
    seen: list[Any] = []

    def note(el: Element) -> None:
        seen.append(el.props())

    # FTTH: create, hold, confirm
    note(order := svc.submit_order(ftth("K1")))
    note(svc.submit_order(ftth("K1")))  # the same order again changes nothing
    note(res := svc.reserve(order.id))
    note(svc.confirm(res.id))
    # FTTH held and released; held and left to expire
    note(res := svc.reserve(svc.submit_order(ftth("K2")).id))
    note(svc.release(res.id))
    note(res := svc.reserve(svc.submit_order(ftth("K3")).id, ttl_seconds=60))
    clock.advance(seconds=61)
    report = svc.sweep_expired()
    seen.append((report.expired, report.flagged))
    note(svc.reservation(res.id))
    # leased line: hold (a construction order), milestones, acceptance confirms it
    note(res := svc.reserve(svc.submit_order(leased("K4")).id))
    [wo] = svc.work_orders_of("ORD-K4")
    for milestone in ("survey", "installation", "remoteTest", "acceptance"):
        note(svc.record_milestone(wo.id, milestone, note=f"{milestone} done"))
    note(svc.reservation(res.id))
    # leased line held, its work order in jeopardy, then the order cancelled
    note(svc.reserve(svc.submit_order(leased("K5")).id))
    clock.advance(hours=55)  # partner-built (Tietong's link): 72 h SLA, jeopardy at 54 h
    report = svc.sweep_expired()
    seen.append((report.expired, report.flagged))
    note(svc.cancel("ORD-K5"))
    return seen


def test_every_provisioning_step_leaves_the_same_graph_on_each_store(store: GraphStore) -> None:
    answers = every_step(store)
    graph = graph_of(store)
    reference = MemoryStore()
    assert every_step(reference) == answers
    assert graph_of(reference) == graph
    nodes, _ = graph
    assert nodes["RSV-K1-1"]["state"] == "confirmed" and "SVC-K1" in nodes
    assert nodes["RSV-K2-1"]["state"] == "released"
    assert nodes["RSV-K3-1"]["state"] == "expired"
    assert nodes["RSV-K4-1"]["state"] == "confirmed" and "CIR-K4" in nodes
    assert nodes["ORD-K5"]["state"] == "cancelled" and nodes["WO-K5-1"]["state"] == "cancelled"
    sweeps = [a for a in answers if isinstance(a, tuple)]
    assert sweeps == [(["RSV-K3-1"], []), ([], ["WO-K5-1"])]


# ---- one validation for every write --------------------------------------------------------


def _order_step(crm: str) -> Callable[[GraphTx], Any]:
    """The first step of an order (its node and its customer), a valid write to add to."""
    request = ftth(crm)
    order = steps.record(
        Order(
            id=f"ORD-{crm}",
            name="contract",
            crm_order_id=crm,
            product=request.product,
            technology="ftth",
            site=request.site,
            customer=request.customer,
            created_at=T0,
            updated_at=T0,
        ),
        "acknowledged",
        T0,
    )
    customer = Customer(id=request.customer, name=crm, site=request.site)
    return lambda tx: steps.create_order(tx, order, customer)


def _ont_fed_by_an_olt(tx: GraphTx, _: dict[str, Element]) -> None:
    tx.link(Edge(type="FED_BY", src="ONT-1", dst="OLT-1"))


def _illegal_status_change(tx: GraphTx, read: dict[str, Element]) -> None:
    port = read["SPL-JZ-2B:2"]  # available -> planned: the lifecycle table forbids it
    tx.put(port.model_copy(update={"status": "planned"}))


def _a_second_upstream(tx: GraphTx, _: dict[str, Element]) -> None:
    tx.link(Edge(type="FED_BY", src="ONT-1", dst="SPL-JZ-2B:2"))


#: case -> (the bad write, given what the step locked first; a word the refusal names)
INVALID: dict[str, tuple[Callable[[GraphTx, dict[str, Element]], None], str]] = {
    "FED_BY from an ONT to an OLT": (_ont_fed_by_an_olt, "FED_BY"),
    "a status change the lifecycle forbids": (_illegal_status_change, "planned"),
    "a second upstream for an ONT": (_a_second_upstream, "FED_BY"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_a_step_writing_what_the_model_forbids_is_refused_and_writes_nothing(
    demo_store: GraphStore, case: str
) -> None:
    bad, named = INVALID[case]
    step = _order_step("BAD1")
    before = graph_of(demo_store)

    def buggy(tx: GraphTx) -> Any:
        read = tx.lock(["SPL-JZ-2B:2", "ONT-1"])  # every read before the first write
        out = step(tx)  # writes the order and its customer (valid) ...
        bad(tx, read)  # ... and one thing the model forbids
        return out

    with pytest.raises(ValidationFailed) as refused:
        demo_store.transact(buggy, actor="contract", reason=case)
    assert named in str(refused.value)
    assert graph_of(demo_store) == before
    assert demo_store.get("ORD-BAD1") is None
    demo_store.transact(step, actor="contract", reason="valid")  # the valid part alone commits
    assert demo_store.get("ORD-BAD1") is not None


def test_a_step_linking_a_node_that_does_not_exist_is_refused(demo_store: GraphStore) -> None:
    step = _order_step("BAD2")
    before = graph_of(demo_store)

    def buggy(tx: GraphTx) -> Any:
        out = step(tx)
        tx.link(Edge(type="FED_BY", src="ONT-1", dst="SPL-NOWHERE:1"))
        return out

    with pytest.raises(ValidationFailed):
        demo_store.transact(buggy, actor="contract", reason="missing node")
    assert graph_of(demo_store) == before


def test_a_customer_id_taken_by_another_kind_is_refused_with_nothing_written(
    demo_store: GraphStore,
) -> None:
    svc = service_on(demo_store, Clock())
    request = ftth("TAKEN").model_copy(update={"customer": "ONT-1"})  # an ONT's id
    before = graph_of(demo_store)
    with pytest.raises(Conflict) as err:
        svc.submit_order(request)
    assert (err.value.message, err.value.reasons) == ("customer id ONT-1 is taken", ["it is a ONT"])
    assert graph_of(demo_store) == before


class _Refusing:
    """A store whose every transaction meets a conflict, as a store's transaction reports one."""

    def __init__(self, store: GraphStore):
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def transact(self, work: Callable[[GraphTx], Any], *, actor: str, reason: str) -> Any:
        raise TxConflict("id ORD-X is taken", ["it is a ONT"])


def test_a_store_conflict_reaches_crm_as_a_provisioning_conflict(demo_store: GraphStore) -> None:
    """The service turns a store's TxConflict into its own Conflict, message and reasons kept."""
    svc = service_on(_Refusing(demo_store), Clock())  # type: ignore[arg-type]
    with pytest.raises(Conflict) as err:
        svc.submit_order(ftth("X"))
    assert (err.value.message, err.value.reasons) == ("id ORD-X is taken", ["it is a ONT"])


def test_updating_a_node_that_is_not_there_is_a_conflict(demo_store: GraphStore) -> None:
    ghost = parse_node({"kind": "ONT", "id": "ONT-GHOST", "site": "B-JZ"})
    before = graph_of(demo_store)
    with pytest.raises(TxConflict) as conflict:
        demo_store.transact(lambda tx: tx.put(ghost), actor="test", reason="ghost")
    assert (conflict.value.message, conflict.value.reasons) == (
        "cannot update ONT",
        ["no ONT with id ONT-GHOST"],
    )
    assert graph_of(demo_store) == before


def test_creating_an_id_that_exists_is_already_exists(demo_store: GraphStore) -> None:
    again = parse_node({"kind": "ONT", "id": "ONT-1", "site": "B-JZ"})
    with pytest.raises(AlreadyExists):
        demo_store.transact(lambda tx: tx.put(again, new=True), actor="test", reason="twice")


def test_a_read_after_a_write_is_refused_and_writes_nothing(demo_store: GraphStore) -> None:
    """Every store holds a step to 'read everything, then write', so none acts on a stale view."""

    def step(tx: GraphTx) -> None:
        [ont] = tx.lock(["ONT-1"]).values()
        tx.put(ont.model_copy(update={"name": "renamed"}))
        tx.lock(["SPL-JZ-1:3"])

    with pytest.raises(RuntimeError, match="read after writing"):
        demo_store.transact(step, actor="test", reason="late read")
    assert demo_store.get("ONT-1").name != "renamed"


def test_a_transaction_that_raises_writes_nothing(demo_store: GraphStore) -> None:
    step = _order_step("BOOM")
    before = graph_of(demo_store)

    def failing(tx: GraphTx) -> None:
        step(tx)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        demo_store.transact(failing, actor="contract", reason="boom")
    assert graph_of(demo_store) == before


def test_due_ids_order_by_time_then_id_and_stop_at_the_limit(demo_store: GraphStore) -> None:
    clock = Clock()
    svc = service_on(demo_store, clock)
    for crm, ttl in (("D1", 300), ("D2", 60), ("D3", 60), ("D4", 600)):
        svc.reserve(svc.submit_order(ftth(crm, site="B-JZ")).id, ttl_seconds=ttl)
    due = demo_store.due_ids(
        "Reservation",
        states=["held"],
        time_field="valid_until",
        until=clock() + timedelta(seconds=300),
        limit=10,
    )
    assert due == ["RSV-D2-1", "RSV-D3-1", "RSV-D1-1"]
    assert demo_store.due_ids(
        "Reservation", states=["held"], time_field="valid_until", until=None, limit=2
    ) == ["RSV-D2-1", "RSV-D3-1"]
    assert (
        demo_store.due_ids(
            "Reservation", states=["confirmed"], time_field="valid_until", until=None, limit=10
        )
        == []
    )
    with pytest.raises(ValueError, match="unknown kind"):
        demo_store.due_ids("Nope", states=["held"], time_field="valid_until", until=None, limit=1)


def test_a_status_change_in_a_transaction_is_recorded_with_its_actor_and_reason(
    demo_store: GraphStore,
) -> None:
    def repair(tx: GraphTx) -> None:
        [port] = tx.lock(["SPL-JZ-2B:2"]).values()
        tx.put(port.model_copy(update={"status": "maintenance"}))

    demo_store.transact(repair, actor="crew-7", reason="splice repair")
    [change] = [h for h in demo_store.history("SPL-JZ-2B:2") if h.change == "status"]
    assert (change.from_status, change.to_status) == ("available", "maintenance")
    assert (change.actor, change.reason) == ("crew-7", "splice repair")


def test_linked_many_is_linked_of_each_id_in_one_read(demo_store: GraphStore) -> None:
    """Each id asked for, with the same edges and ends `linked` gives it; none for a node with
    no such edge or no node at all."""
    ids = ["SPL-JZ-2A:1", "SPL-JZ-2A:2", "SPL-JZ-2B:2", "NO-SUCH-NODE"]

    def read(tx: GraphTx) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
        many = tx.linked_many(ids, "FED_BY", "in")
        one = {i: tx.linked(i, "FED_BY", "in") for i in ids}
        return many, one

    many, one = demo_store.transact(read, actor="test", reason="read")
    assert list(many) == ids
    assert many == one
    assert [(e.src, e.dst, el.id) for e, el in many["SPL-JZ-2A:1"]] == [
        ("ONT-1", "SPL-JZ-2A:1", "ONT-1")
    ]
    assert many["SPL-JZ-2B:2"] == [] and many["NO-SUCH-NODE"] == []
    out = demo_store.transact(
        lambda tx: tx.linked_many(["ONT-1", "ONT-2"], "FED_BY", "out"), actor="t", reason="r"
    )
    assert {i: [el.id for _, el in rows] for i, rows in out.items()} == {
        "ONT-1": ["SPL-JZ-2A:1"],
        "ONT-2": ["SPL-JZ-2A:2"],
    }
