"""CRM status feedback on both stores: every mismatch rule with its record and event, agreeing
reports, resolution and reopening, idempotent resends and conflicts, unknown subjects writing
nothing, the bulk form, and feedback never moving a resource."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import pytest

from pboss.crm.feedback import MAX_BATCH, FeedbackService, Recorded
from pboss.crm.feedback_model import CrmMismatch, MismatchKind, StatusMessage, mismatch_id_for
from pboss.crm.feedback_reads import feedback_of, list_mismatches
from pboss.hub.catalog import CRM_MISMATCH, CRM_MISMATCH_RESOLVED
from pboss.inventory.events import StoredEvent
from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import Conflict, InvalidRequest, NotFound
from pboss.provisioning.service import ProvisioningService
from tests.crm.conftest import last_seq, message, tally
from tests.provisioning.conftest import ftth, snapshot

MK = MismatchKind
CRM = "crm:test"


def events(store: GraphStore, after: int = 0) -> list[StoredEvent]:
    """The mismatch events committed after `after`."""
    types = [CRM_MISMATCH, CRM_MISMATCH_RESOLVED]
    return store.events_after(after, types=types, first=1000)


def one(rec: Recorded) -> CrmMismatch:
    """The single mismatch a report left open."""
    assert len(rec.mismatches) == 1, rec.mismatches
    return rec.mismatches[0]


# ---- orders -------------------------------------------------------------------------------------


def test_sold_with_nothing_held_opens_a_mismatch_and_a_later_agreeing_report_resolves_it(
    demo_store: GraphStore, prov: ProvisioningService, fb: FeedbackService
) -> None:
    order = prov.submit_order(ftth("FB1"))
    rec = fb.report(message("m1", "order", "FB1", "sold"), actor=CRM)
    m = one(rec)
    assert (m.rule, m.state, m.subject) == (MK.SOLD_WITHOUT_RESOURCES, "open", order.id)
    assert m.crm_says == "sold"
    assert "holds no resources" in m.pboss_says and "acknowledged" in m.pboss_says
    assert rec.report.agrees is False and rec.report.mismatches == [m.id]
    [ev] = events(demo_store)
    assert (ev.type, ev.subject) == (CRM_MISMATCH, order.id)
    assert (ev.sites, ev.products) == (["B-JZ"], ["FTTH-100M"])
    body = ev.body["event"]["crmStatusMismatch"]
    assert (body["id"], body["kind"], body["state"]) == (m.id, "soldWithoutResources", "open")

    prov.reserve(order.id)
    seq = last_seq(demo_store)
    rec2 = fb.report(message("m2", "order", "FB1", "contractSigned"), actor=CRM)
    assert rec2.mismatches == [] and [r.id for r in rec2.resolved] == [m.id]
    assert rec2.report.agrees is True
    done = demo_store.get(m.id)
    assert isinstance(done, CrmMismatch)
    assert (done.state, done.resolved_by, done.opened_by) == ("resolved", "m2", "m1")
    [ev2] = events(demo_store, seq)
    assert ev2.type == CRM_MISMATCH_RESOLVED
    assert ev2.body["event"]["crmStatusMismatch"]["resolvedBy"] == "m2"


def test_billing_started_for_a_cancelled_order_or_one_only_held(
    demo_store: GraphStore, prov: ProvisioningService, fb: FeedbackService
) -> None:
    gone = prov.submit_order(ftth("FB2"))
    prov.cancel(gone.id, "customer changed mind")
    m = one(fb.report(message("b1", "order", "FB2", "billingStarted"), actor=CRM))
    assert m.rule == MK.BILLING_WITHOUT_SERVICE
    assert m.crm_says == "billingStarted" and "is cancelled" in m.pboss_says

    held = prov.submit_order(ftth("FB3"))
    res = prov.reserve(held.id)
    m2 = one(fb.report(message("b2", "order", "FB3", "billingStarted"), actor=CRM))
    assert m2.rule == MK.BILLING_WITHOUT_SERVICE
    assert f"only held: {res.id} holds" in m2.pboss_says
    # sold for the cancelled order: the sale has nothing behind it either
    m3 = one(fb.report(message("b3", "order", "FB2", "sold"), actor=CRM))
    assert m3.rule == MK.SOLD_WITHOUT_RESOURCES and "is cancelled" in m3.pboss_says
    # CRM saying "sold" instead of "billingStarted" resolved the billing mismatch of FB2
    assert demo_store.get(m.id).state == "resolved"  # type: ignore[union-attr]
    got = [(e.type, e.body["event"]["crmStatusMismatch"]["id"]) for e in events(demo_store)]
    assert got == [
        (CRM_MISMATCH, m.id),
        (CRM_MISMATCH, m2.id),
        (CRM_MISMATCH, m3.id),
        (CRM_MISMATCH_RESOLVED, m.id),
    ]


def test_customer_withdrew_from_a_completed_order_would_strand_its_resources(
    demo_store: GraphStore, prov: ProvisioningService, fb: FeedbackService
) -> None:
    order = prov.submit_order(ftth("FB4"))
    res = prov.reserve(order.id)
    done = prov.confirm(res.id)
    m = one(fb.report(message("w1", "order", "FB4", "customerWithdrew"), actor=CRM))
    assert m.rule == MK.WITHDRAWN_BUT_HELD
    assert f"{done.service} in service" in m.pboss_says and "stranded" in m.pboss_says
    # feedback never moves a resource: the order stays completed and its service in place
    after = prov.order(order.id)
    assert after.state == "completed"
    assert demo_store.get(done.service or "") is not None
    # cancelled while a hold is live: the hold would be stranded too
    other = prov.submit_order(ftth("FB5"))
    held = prov.reserve(other.id)
    m2 = one(fb.report(message("w2", "order", "FB5", "cancelled"), actor=CRM))
    assert m2.rule == MK.WITHDRAWN_BUT_HELD and f"{held.id} holds" in m2.pboss_says
    assert prov.reservation(held.id).state == "held"


def test_agreeing_reports_write_the_report_and_no_mismatch(
    demo_store: GraphStore, prov: ProvisioningService, fb: FeedbackService
) -> None:
    order = prov.submit_order(ftth("FB6"))
    res = prov.reserve(order.id)
    seq = last_seq(demo_store)
    assert fb.report(message("a1", "order", "FB6", "sold"), actor=CRM).report.agrees
    prov.confirm(res.id)
    seq = last_seq(demo_store)
    for i, status in enumerate(("contractSigned", "billingStarted")):
        rec = fb.report(message(f"a{i + 2}", "order", "FB6", status), actor=CRM)
        assert rec.report.agrees and rec.mismatches == [] and rec.resolved == []
    withdrawn = prov.submit_order(ftth("FB7"))
    prov.cancel(withdrawn.id, "withdrawn")
    assert fb.report(message("a4", "order", "FB7", "customerWithdrew"), actor=CRM).report.agrees
    assert events(demo_store, seq) == []
    assert demo_store.counts().get("CrmMismatch", 0) == 0
    assert demo_store.counts()["CrmStatusReport"] == 4


# ---- ports --------------------------------------------------------------------------------------


def test_port_sold_that_pboss_shows_free(demo_store: GraphStore, fb: FeedbackService) -> None:
    rec = fb.report(message("p1", "port", "SPL-JZ-2A:3", "sold", customer="H-9"), actor=CRM)
    m = one(rec)
    assert (m.rule, m.subject, m.crm_says) == (
        MK.PORT_SOLD_BUT_FREE,
        "SPL-JZ-2A:3",
        "sold to customer H-9",
    )
    assert "is free" in m.pboss_says
    [ev] = events(demo_store)
    assert (ev.subject, ev.sites) == ("SPL-JZ-2A:3", ["B-JZ"])


def test_port_sold_to_another_customer_than_pboss_serves_then_agreeing(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    m = one(fb.report(message("p2", "port", "SPL-JZ-2A:1", "sold", customer="H-2"), actor=CRM))
    assert m.rule == MK.PORT_CUSTOMER_DIFFERS
    assert "ONT ONT-1 carries SVC-H1-BB for H-1" in m.pboss_says
    rec = fb.report(message("p3", "port", "SPL-JZ-2A:1", "sold", customer="H-1"), actor=CRM)
    assert rec.report.agrees and [r.id for r in rec.resolved] == [m.id]


def test_port_free_in_crm_that_pboss_shows_serving_a_customer(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    rec = fb.report(
        message("p4", "port", "SPL-JZ-2B:1", "customerWithdrew", customer="H-3"), actor=CRM
    )
    m = one(rec)
    assert m.rule == MK.PORT_FREE_BUT_USED and "for H-3" in m.pboss_says
    assert fb.report(message("p5", "port", "SPL-JZ-2A:4", "free"), actor=CRM).report.agrees


def test_a_port_held_for_the_customers_order_agrees_with_sold(
    demo_store: GraphStore, prov: ProvisioningService, fb: FeedbackService
) -> None:
    order = prov.submit_order(ftth("FB8", customer="H-FB8"))
    res = prov.reserve(order.id)
    port = next(r for r in res.resources if r.startswith("SPL-"))
    ok = fb.report(message("h1", "port", port, "sold", customer="H-FB8"), actor=CRM)
    assert ok.report.agrees
    m = one(fb.report(message("h2", "port", port, "free"), actor=CRM))
    assert m.rule == MK.PORT_FREE_BUT_USED
    assert f"held by {res.id} for order FB8 (customer H-FB8)" in m.pboss_says


# ---- packages -----------------------------------------------------------------------------------


def test_package_counts_that_differ_from_pbosss_used_count(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    pkg = "ftth-access@B-JZ"
    m = one(fb.report(message("c1", "package", pkg, "counts", sold=2, reserved=0), actor=CRM))
    assert m.rule == MK.PACKAGE_COUNTS_DIFFER
    assert m.crm_says == "sold 2, reserved 0 (2 taken)"
    assert m.pboss_says == f"package {pkg}: 3 used (in service or held) of 16, 13 free to sell"
    [ev] = events(demo_store)
    assert (ev.subject, ev.sites) == (pkg, ["B-JZ"])
    assert ev.products == sorted(["FTTH-100M", "FTTH-1000M", "IPTV", "VOICE"])
    agree = fb.report(message("c2", "package", pkg, "counts", sold=2, reserved=1), actor=CRM)
    assert agree.report.agrees and agree.resolved[0].id == m.id
    cap = fb.report(
        message("c3", "package", pkg, "counts", sold=3, capacity=32), actor=CRM
    ).mismatches[0]
    assert cap.id == m.id and cap.occurrences == 2 and cap.is_open  # reopened, one record
    assert cap.crm_says.endswith("capacity 32")


# ---- idempotency, conflicts, refusals -----------------------------------------------------------


def test_a_resend_is_answered_from_the_record_and_writes_nothing(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    msg = message("r1", "port", "SPL-JZ-2A:5", "sold", customer="H-9", note="shop 3")
    first = fb.report(msg, actor=CRM)
    before = tally(demo_store)
    again = fb.report(msg, actor=CRM)
    assert again.duplicate and not first.duplicate
    assert again.report.id == first.report.id
    assert [m.id for m in again.mismatches] == [m.id for m in first.mismatches]
    assert tally(demo_store) == before


def test_a_reused_message_id_with_other_content_is_a_conflict(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    fb.report(message("r2", "port", "SPL-JZ-2A:5", "sold", customer="H-9"), actor=CRM)
    before = tally(demo_store)
    with pytest.raises(Conflict) as exc:
        fb.report(message("r2", "port", "SPL-JZ-2A:5", "sold", customer="H-8"), actor=CRM)
    assert exc.value.reasons == ["customer: 'H-9' recorded, 'H-8' sent"]
    assert tally(demo_store) == before


@pytest.mark.parametrize(
    "msg",
    [
        message("u1", "order", "NO-SUCH-ORDER", "sold"),
        message("u2", "port", "NO-SUCH-PORT", "free"),
        message("u3", "package", "ftth-access@NO-SITE", "counts", sold=1),
        message("u4", "package", "no-rule@B-JZ", "counts", sold=1),
        message("u5", "package", "ftth-access@B-JZ/P-NOBODY", "counts", sold=1),
        message("u6", "package", "not a package id", "counts", sold=1),
    ],
    ids=lambda m: m.message_id,
)
def test_an_unknown_subject_is_not_found_and_writes_nothing(
    demo_store: GraphStore, fb: FeedbackService, msg: StatusMessage
) -> None:
    before = tally(demo_store)
    with pytest.raises(NotFound):
        fb.report(msg, actor=CRM)
    assert tally(demo_store) == before


def test_a_resource_that_is_not_a_port_is_refused(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    before = tally(demo_store)
    with pytest.raises(InvalidRequest, match="OLT-1 is a OLT, not a port"):
        fb.report(message("n1", "port", "OLT-1", "free"), actor=CRM)
    assert tally(demo_store) == before


def test_malformed_messages_are_refused_before_anything(fb: FeedbackService) -> None:
    bad: list[dict[str, Any]] = [
        {"subject_kind": "order", "status": "paid"},
        {"subject_kind": "port", "status": "sold"},  # sold names its customer
        {"subject_kind": "package", "status": "counts"},  # no counts
        {"subject_kind": "order", "status": "sold", "sold": 3},
        {"subject_kind": "order", "status": "sold", "note": "x" * 501},
    ]
    for fields in bad:
        with pytest.raises(ValueError):
            StatusMessage(message_id="x", subject="FB1", **fields)
    with pytest.raises(ValueError):
        StatusMessage(message_id="x" * 201, subject="FB1", subject_kind="order", status="sold")


# ---- bulk ---------------------------------------------------------------------------------------


def test_bulk_answers_each_message_and_an_unknown_one_writes_nothing_of_its_own(
    demo_store: GraphStore, prov: ProvisioningService, fb: FeedbackService
) -> None:
    prov.submit_order(ftth("FB9"))
    out = fb.report_many(
        [
            message("k1", "order", "FB9", "sold"),
            message("k2", "order", "NOPE", "sold"),
            message("k3", "port", "SPL-JZ-2A:6", "free"),
        ],
        actor=CRM,
    )
    assert isinstance(out[0], Recorded) and not out[0].report.agrees
    assert isinstance(out[1], NotFound)
    assert isinstance(out[2], Recorded) and out[2].report.agrees
    assert demo_store.counts()["CrmStatusReport"] == 2
    assert demo_store.get("CRMMSG-k2") is None
    before = tally(demo_store)
    with pytest.raises(InvalidRequest, match="too many"):
        fb.report_many(
            [message(f"z{i}", "port", "SPL-JZ-2A:6", "free") for i in range(MAX_BATCH + 1)],
            actor=CRM,
        )
    assert tally(demo_store) == before


# ---- the records do not touch the network -------------------------------------------------------


def test_feedback_never_moves_a_resource_and_about_edges_are_no_dependency(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    before = snapshot(demo_store)
    fb.report(message("g1", "port", "SPL-JZ-2A:1", "free"), actor=CRM)
    fb.report(message("g2", "port", "SPL-JZ-2A:7", "sold", customer="H-1"), actor=CRM)
    fb.report(message("g3", "package", "ftth-access@B-JZ", "counts", sold=9), actor=CRM)
    after = snapshot(demo_store)
    assert after["nodes"] == before["nodes"]
    assert {e for e in after["edges"] if e[0] != "ABOUT"} == before["edges"]
    riders = demo_store.riders(["SPL-JZ-2A:7"])
    assert riders.items == []
    # a port with reports and a mismatch about it is still deletable: ABOUT is no dependency
    assert demo_store.delete(["SPL-JZ-2A:7"], actor="test") == ["SPL-JZ-2A:7"]


def test_mismatch_list_filters_pages_and_counts(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    fb.report(message("l1", "port", "SPL-JZ-2A:3", "sold", customer="H-9"), actor=CRM)
    fb.report(message("l2", "port", "SPL-JZ-2A:4", "sold", customer="H-9"), actor=CRM)
    fb.report(message("l3", "port", "SPL-JZ-2A:1", "free"), actor=CRM)
    fb.report(message("l4", "port", "SPL-JZ-2A:4", "free"), actor=CRM)  # resolves l2's
    page = list_mismatches(demo_store, open=True, first=1)
    assert page.total == 2 and len(page.items) == 1 and page.next_cursor == page.items[0].id
    rest = list_mismatches(demo_store, open=True, first=5, after=page.next_cursor)
    assert rest.total == 2 and len(rest.items) == 1 and rest.next_cursor is None
    sold = list_mismatches(demo_store, kinds=[MK.PORT_SOLD_BUT_FREE])
    assert sold.total == 2 and {m.state for m in sold.items} == {"open", "resolved"}
    assert page.totals == {
        ("portSoldButFree", "open"): 1,
        ("portSoldButFree", "resolved"): 1,
        ("portFreeButUsed", "open"): 1,
    }
    seen = feedback_of(demo_store, fb.catalog, "SPL-JZ-2A:4")
    assert [r.message_id for r in seen.reports] == ["l4", "l2"] or seen.report_count == 2
    assert [m.state for m in seen.mismatches] == ["resolved"]


def test_concurrent_messages_about_one_subject_make_one_record_each_and_one_mismatch(
    demo_store: GraphStore, fb: FeedbackService
) -> None:
    pkg = "ftth-access@B-JZ"
    same = message("cc-0", "package", pkg, "counts", sold=1)
    msgs = [same] * 4 + [message(f"cc-{i}", "package", pkg, "counts", sold=i) for i in range(1, 5)]
    with ThreadPoolExecutor(8) as pool:
        out = list(pool.map(lambda m: fb.report(m, actor=CRM), msgs))
    assert sum(1 for r in out[:4] if not r.duplicate) == 1
    assert demo_store.counts()["CrmStatusReport"] == 5
    assert demo_store.counts()["CrmMismatch"] == 1
    # serialised on the site's lock: resolutions never come twice in a row nor first, and the
    # record ends as the last event says
    kinds = [e.type for e in events(demo_store)]
    assert kinds and kinds[0] == CRM_MISMATCH
    assert all(not (a == b == CRM_MISMATCH_RESOLVED) for a, b in pairwise(kinds))
    final = demo_store.get(mismatch_id_for(MK.PACKAGE_COUNTS_DIFFER, pkg))
    assert isinstance(final, CrmMismatch)
    assert final.is_open == (kinds[-1] == CRM_MISMATCH)


@pytest.mark.neo4j
def test_a_report_costs_few_round_trips_on_neo4j(neo4j_store_session: Any) -> None:
    """A free port's report: one lock-and-read of the port and the records, one commit; a
    package's: the site view first; a served port's: the walk to its customers (FED_BY, USES,
    FOR per service)."""
    from pboss.inventory.demo import demo_network

    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network())
    fb = FeedbackService(store)
    for msg, queries in (
        (message("rt-1", "port", "SPL-JZ-2A:3", "free"), 2),
        (message("rt-2", "package", "ftth-access@B-JZ", "counts", sold=1), 3),
        (message("rt-3", "port", "SPL-JZ-2A:1", "sold", customer="H-2"), 6),
    ):
        before = store.queries_run
        fb.report(msg, actor=CRM)
        assert store.queries_run - before == queries, msg.message_id
    store.clear()
