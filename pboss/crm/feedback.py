"""Status feedback from CRM (状态反馈): record each report, reconcile it, report mismatches.

CRM tells pboss what happened on its side to an order (sold, contract signed, customer withdrew,
billing started, cancelled) or to a published resource (a port sold to a customer, freed, or its
customer withdrew; a business resource package's counts in CRM's books). Each message is one
transaction (`GraphStore.transact`): lock what it is about (the order, the port, or the site of
the package) with the report and the mismatch records, in one round trip; a message id seen
before answers with what was recorded (same content) or a Conflict (different content), writing
nothing; an unknown order, port or package is a NotFound, writing nothing. Otherwise the report
is recorded, every rule of the subject (`reconcile`) is checked against pboss's state read under
the lock, each disagreement opens (or keeps open) its `CrmMismatch` and each agreement resolves
an open one, with a `CrmStatusMismatchEvent` / `CrmStatusMismatchResolvedEvent` in the same
transaction.

What pboss does NOT do on CRM's word: pboss is the system of record for resources, so feedback
never moves one. It releases no hold, cancels no order, frees or takes no port and changes no
count; it records and reports, and a person (or CRM, through the order mutations) acts. A
package's figures are the business view's, read from the site just before the transaction (the
counts of a whole site are not one node to lock; a count moving meanwhile is reconciled by the
next report).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pboss.crm import reconcile
from pboss.crm.feedback_events import mismatch_event
from pboss.crm.feedback_model import (
    RULES,
    CrmMismatch,
    CrmStatusReport,
    MismatchKind,
    MismatchState,
    StatusMessage,
    SubjectKind,
    mismatch_id_for,
    register_kinds,
    report_id_for,
)
from pboss.crm.reconcile import Finding, OrderFacts, PackageFacts, PortFacts, PortUse
from pboss.inventory import business as biz
from pboss.inventory import errors as inv
from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.model import Edge, Element
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import BUSY_BY, AlreadyExists, GraphTx
from pboss.provisioning.errors import Conflict, InvalidRequest, NotFound
from pboss.provisioning.model import Order, Reservation, ReservationState
from pboss.provisioning.requests import order_id_for

#: The most messages one bulk call takes.
MAX_BATCH = 100
#: The kinds of resource CRM is sold by the port (splitter outputs, NE ports).
PORT_KINDS = ("SplitterPort", "Port")
#: What a package's subject is called in errors (it is a business view, not a node).
PACKAGE_KIND = "BusinessResource"


@dataclass
class Recorded:
    """What one message came to: the report, whether it was a resend, and the mismatches of its
    subject it left open (opened, reopened or still there) and those it resolved."""

    report: CrmStatusReport
    duplicate: bool
    mismatches: list[CrmMismatch] = field(default_factory=list)
    resolved: list[CrmMismatch] = field(default_factory=list)


@dataclass(frozen=True)
class Subject:
    """What a message is about, as pboss names it, found before the transaction: its pboss id,
    the node the records hang off (the order, the port, the package's site) and, for a package,
    its figures and scope."""

    kind: SubjectKind
    id: str
    anchor: str
    crm_order_id: str | None = None
    package: PackageFacts | None = None
    sites: tuple[str, ...] = ()
    products: tuple[str, ...] = ()


# ---- finding the subject ------------------------------------------------------------------------


def package_parts(package_id: str) -> tuple[str, str, str | None] | None:
    """(rule, site, owner or None) of a package id `rule@site[/owner]`, or None when malformed."""
    rule, at, rest = package_id.partition("@")
    if not at or not rule or not rest:
        return None
    site, _, owner = rest.partition("/")
    return (rule, site, owner or None) if site else None


def find_package(store: GraphStore, catalog: Catalog, package_id: str) -> biz.Package:
    """The business resource package of this id as the business view packages it, or NotFound."""
    parts = package_parts(package_id)
    if parts is None or parts[0] not in {r.id for r in catalog.packages}:
        raise NotFound(package_id, PACKAGE_KIND)
    try:
        view = store.site_view(parts[1])
    except inv.NotFound:
        raise NotFound(package_id, PACKAGE_KIND) from None
    found = [p for p in biz.package_site(view, catalog) if p.id == package_id]
    if not found:
        raise NotFound(package_id, PACKAGE_KIND)
    return found[0]


def subject_of(store: GraphStore, catalog: Catalog, message: StatusMessage) -> Subject:
    """The message's subject in pboss's terms (a package's figures read now; orders and ports
    are read under lock in the transaction)."""
    kind = SubjectKind(message.subject_kind)
    if kind == SubjectKind.ORDER:
        oid = order_id_for(message.subject)
        return Subject(kind, oid, oid, crm_order_id=message.subject)
    if kind == SubjectKind.PORT:
        return Subject(kind, message.subject, message.subject)
    pkg = find_package(store, catalog, message.subject)
    facts = PackageFacts(pkg.id, pkg.capacity, pkg.used, pkg.free)
    return Subject(
        kind,
        pkg.id,
        pkg.site.id,
        package=facts,
        sites=(pkg.site.id,),
        products=tuple(p.id for p in pkg.sells),
    )


# ---- reading pboss's side under lock ------------------------------------------------------------


def _order_facts(tx: GraphTx, order: Order, now: datetime) -> OrderFacts:
    """The order's holds and services (its reservations are stable while it is locked)."""
    found = tx.peek(order.reservations) if order.reservations else {}
    res = [r for i in order.reservations if isinstance(r := found.get(i), Reservation)]
    held = [
        (r.id, r.valid_until.isoformat(), list(r.resources))
        for r in res
        if r.state == ReservationState.HELD and not r.is_lapsed(now)
    ]
    confirmed = [(r.id, r.service) for r in res if r.state == ReservationState.CONFIRMED]
    return OrderFacts(order.id, str(order.state), held, confirmed)


def _served(tx: GraphTx, user: Element) -> list[PortUse]:
    """Who a port's user (an ONT, a circuit) serves: each service riding it and its customer."""
    out = []
    for _, svc in tx.linked(user.id, "USES", "in"):
        customers = [c.id for _, c in tx.linked(svc.id, "FOR", "out")]
        for cust in customers or [None]:
            out.append(PortUse(cust, f"{user.kind} {user.id} carries {svc.id} for {cust}"))
    return out or [PortUse(None, f"{user.kind} {user.id} (no service)")]


def _port_facts(tx: GraphTx, port: Element, incoming: Sequence[str]) -> PortFacts:
    """What makes the port busy (`BUSY_BY`) and whom that serves."""
    uses: list[PortUse] = []
    for edge_type in sorted(set(incoming) & BUSY_BY.get(port.kind, frozenset())):
        for _, user in tx.linked(port.id, edge_type, "in"):
            if isinstance(user, Reservation):
                order = tx.peek([user.order]).get(user.order)
                cust = order.customer if isinstance(order, Order) else None
                crm = order.crm_order_id if isinstance(order, Order) else user.order
                how = f"held by {user.id} for order {crm} (customer {cust})"
                uses.append(PortUse(cust, how, held=True))
            elif user.kind in ("ONT", "Circuit"):
                uses += _served(tx, user)
            else:
                what = "fed by" if edge_type == "FED_BY" else "ends"
                uses.append(PortUse(None, f"{user.kind} {user.id} ({what} it: network use)"))
    return PortFacts(port.id, str(port.status), uses)


# ---- the step -----------------------------------------------------------------------------------


def _fingerprint_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [
        f"{k}: {old.get(k)!r} recorded, {new.get(k)!r} sent"
        for k in keys
        if old.get(k) != new.get(k)
    ]


def _resend(tx: GraphTx, existing: Element, message: StatusMessage) -> Recorded:
    """A message id seen before: the recorded answer when the content is the same, else a
    Conflict naming what differs (nothing written either way)."""
    if not isinstance(existing, CrmStatusReport):
        raise Conflict(f"id {existing.id} is taken", [f"it is a {existing.kind}"])
    diff = _fingerprint_diff(existing.message(), message.fingerprint())
    if diff:
        raise Conflict(f"CRM message {message.message_id} was already received differently", diff)
    found = tx.peek([*existing.mismatches, *existing.resolved])
    pick = [found[i] for i in existing.mismatches if isinstance(found.get(i), CrmMismatch)]
    done = [found[i] for i in existing.resolved if isinstance(found.get(i), CrmMismatch)]
    return Recorded(existing, duplicate=True, mismatches=pick, resolved=done)


def _lock(
    tx: GraphTx, subject: Subject, records: Sequence[str]
) -> tuple[Element | None, Sequence[str], dict[str, Element]]:
    """Lock what the message is about and the records in one round trip: the subject, its
    incoming edge types for a port, and the records found. (Only feedback locks its records, so
    taking them with or before the subject orders no lock against another step's.)"""
    if subject.kind == SubjectKind.PORT:
        held, facts = tx.claim([subject.anchor], lead=records)
        got = facts.get(subject.anchor)
        return (got.element, got.incoming, held) if got else (None, (), held)
    held = tx.lock([subject.anchor, *records])
    return held.pop(subject.anchor, None), (), held


def _facts(
    tx: GraphTx, subject: Subject, anchor: Element | None, incoming: Sequence[str], now: datetime
) -> tuple[reconcile.Facts, tuple[str, ...], tuple[str, ...]]:
    """pboss's side, and the sites and products concerned; NotFound when it is not there."""
    if subject.kind == SubjectKind.ORDER:
        if not isinstance(anchor, Order):
            raise NotFound(subject.crm_order_id or subject.id, "Order")
        sites = tuple(s for s in (anchor.site, anchor.a_site, anchor.z_site) if s)
        return _order_facts(tx, anchor, now), sites, (anchor.product,)
    if subject.kind == SubjectKind.PORT:
        if anchor is None:
            raise NotFound(subject.id, "Port")
        if anchor.kind not in PORT_KINDS:
            raise InvalidRequest(
                f"{subject.id} is a {anchor.kind}, not a port",
                [f"CRM reports on ports ({', '.join(PORT_KINDS)}) and on packages"],
                ["subject"],
            )
        return _port_facts(tx, anchor, incoming), tuple(s for s in (anchor.site,) if s), ()
    if anchor is None or anchor.kind != "Site" or subject.package is None:
        raise NotFound(subject.id, PACKAGE_KIND)
    return subject.package, subject.sites, subject.products


def record_report(
    tx: GraphTx, message: StatusMessage, subject: Subject, *, now: datetime, actor: str
) -> Recorded:
    """One CRM message in one transaction: lock (the subject and the records, at once), check a
    resend, read pboss's side, reconcile, then write the report, the mismatch changes and their
    events (reads all come first)."""
    rid = report_id_for(message.message_id)
    rules = RULES[subject.kind]
    mids = {rule: mismatch_id_for(rule, subject.id) for rule in rules}
    anchor, incoming, held = _lock(tx, subject, [rid, *mids.values()])
    if rid in held:
        return _resend(tx, held[rid], message)
    facts, sites, products = _facts(tx, subject, anchor, incoming, now)
    old = {rule: held.get(mid) for rule, mid in mids.items()}
    for mid, el in ((mids[r], e) for r, e in old.items() if e is not None):
        if not isinstance(el, CrmMismatch):
            raise Conflict(f"id {mid} is taken", [f"it is a {el.kind}"])
    findings = reconcile.check(message, facts)
    # ---- writes ----
    scope = {"sites": list(sites), "products": list(products)}
    open_now: list[CrmMismatch] = []
    resolved: list[CrmMismatch] = []
    changes: list[tuple[CrmMismatch, bool, bool]] = []
    for rule in rules:
        change = _mismatch_change(
            old[rule], findings.get(rule), rule, mids[rule], subject, message, now, scope
        )
        if change is None:
            continue
        mismatch, announce = change
        changes.append((mismatch, announce, old[rule] is None))
        (open_now if mismatch.is_open else resolved).append(mismatch)
    report = CrmStatusReport(
        id=rid,
        name=f"CRM {message.status} about {subject.id}",
        site=sites[0] if sites else None,
        message_id=message.message_id,
        subject_kind=subject.kind,
        subject=subject.id,
        crm_order_id=subject.crm_order_id,
        crm_status=message.status,
        customer=message.customer,
        sold=message.sold,
        reserved=message.reserved,
        capacity=message.capacity,
        note=message.note,
        reported_at=message.reported_at,
        received_at=now,
        received_by=actor,
        fingerprint=_compact(message.fingerprint()),
        agrees=not any(findings.values()),
        mismatches=[m.id for m in open_now],
        resolved=[m.id for m in resolved],
    )
    tx.put(report, new=True)
    tx.link(Edge(type="ABOUT", src=rid, dst=subject.anchor))
    for mismatch, announce, new in changes:
        tx.put(mismatch, new=new)
        if new:
            tx.link(Edge(type="ABOUT", src=mismatch.id, dst=subject.anchor))
        if announce:
            tx.emit(mismatch_event(mismatch, now))
    return Recorded(report, duplicate=False, mismatches=open_now, resolved=resolved)


def _compact(data: dict[str, Any]) -> str:
    """Stored JSON: compact, keys sorted (a resend compares equal whatever CRM's key order)."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _mismatch_change(
    old: Element | None,
    finding: Finding | None,
    rule: MismatchKind,
    mid: str,
    subject: Subject,
    message: StatusMessage,
    now: datetime,
    scope: dict[str, list[str]],
) -> tuple[CrmMismatch, bool] | None:
    """The mismatch record as this report leaves it, and whether that is news (an event), or
    None when it has nothing to change (agreeing, and nothing open)."""
    prior = old if isinstance(old, CrmMismatch) else None
    msg_id = message.message_id
    if finding is None:
        if prior is None or not prior.is_open:
            return None
        done = prior.model_copy(deep=True)
        done.state = MismatchState.RESOLVED
        done.resolved_at = now
        done.resolved_by = msg_id
        done.resolution = f"CRM now says {reconcile.crm_says(message)}, which agrees with pboss"
        return done, True
    if prior is None:
        fresh = CrmMismatch(
            id=mid,
            name=f"{rule.value}: {subject.id}",
            site=scope["sites"][0] if scope["sites"] else None,
            rule=rule,
            subject_kind=subject.kind,
            subject=subject.id,
            crm_says=finding.crm_says,
            pboss_says=finding.pboss_says,
            detected_at=now,
            last_seen_at=now,
            opened_by=msg_id,
            seen_by=msg_id,
            **scope,
        )
        return fresh, True
    again = prior.model_copy(deep=True)
    again.last_seen_at = now
    again.seen_by = msg_id
    news = (prior.crm_says, prior.pboss_says) != (finding.crm_says, finding.pboss_says)
    again.crm_says, again.pboss_says = finding.crm_says, finding.pboss_says
    again.sites, again.products = scope["sites"], scope["products"]
    if not prior.is_open:  # it came back: reopen it
        again.state = MismatchState.OPEN
        again.detected_at = now
        again.opened_by = msg_id
        again.resolved_at = again.resolved_by = again.resolution = None
        again.occurrences = prior.occurrences + 1
        news = True
    return again, news


# ---- the service --------------------------------------------------------------------------------


class FeedbackService:
    """CRM's status reports on one GraphStore: record, reconcile, list mismatches."""

    def __init__(
        self,
        store: GraphStore,
        *,
        catalog: Catalog | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        register_kinds()
        self.store = store
        self.catalog = catalog or getattr(store, "catalog", None) or default_catalog()
        self.clock = clock or (lambda: datetime.now(UTC))

    def report(self, message: StatusMessage, *, actor: str) -> Recorded:
        """Record one CRM message and reconcile it (see the module docstring)."""
        subject = subject_of(self.store, self.catalog, message)
        now = self.clock()

        def work(tx: GraphTx) -> Recorded:
            return record_report(tx, message, subject, now=now, actor=actor)

        reason = f"CRM status report {message.message_id}"
        try:
            try:
                return self.store.transact(work, actor=actor, reason=reason)
            except AlreadyExists:  # the same message id arrived concurrently: now it is found
                return self.store.transact(work, actor=actor, reason=reason)
        except inv.TxConflict as exc:
            raise Conflict(exc.message, exc.reasons) from None

    def report_many(
        self, messages: Sequence[StatusMessage], *, actor: str
    ) -> list[Recorded | inv.PbossError]:
        """Each message on its own (its own transaction and answer, in order): one refused
        (NotFound, Conflict) writes nothing of its own and stops none of the others."""
        if len(messages) > MAX_BATCH:
            raise InvalidRequest(
                f"too many messages: {len(messages)}", [f"at most {MAX_BATCH} per call"], ["inputs"]
            )
        out: list[Recorded | inv.PbossError] = []
        for message in messages:
            try:
                out.append(self.report(message, actor=actor))
            except (NotFound, Conflict, InvalidRequest, inv.NotFound) as exc:
                out.append(exc)
        return out
