"""An engineer's actions on an incident: confirm its suspect, re-point it to another resource,
split named tickets out into a new incident. Each is one write transaction, refused with a typed
error (`IncidentActionRefused`, `NotFound`) that writes nothing.

An engineer's decision holds: a confirmed, re-pointed or split-off incident keeps its suspect as
tickets and alarms arrive (`incidents.correlate_*` joins evidence to it but never moves it or
absorbs it), and its explanation keeps the ranking with the engineer's choice named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from pboss.assurance.correlation import (
    Alternative,
    Complaint,
    Correlation,
    Resource,
    correlate,
    score,
    why_lost,
)
from pboss.assurance.events import INCIDENT_CHANGE, INCIDENT_CREATE, INCIDENT_STATE, incident_event
from pboss.assurance.incidents import _Work, riders_of, utcnow
from pboss.assurance.model import (
    INCIDENT_TRANSITIONS,
    Entry,
    Incident,
    IncidentState,
    TroubleTicket,
)
from pboss.assurance.tallies import CAUSE_KINDS, CauseTally, candidates, estimate_riders, tally_id
from pboss.inventory.errors import NotFound, PbossError
from pboss.inventory.model import Edge, Element
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx

Clock = Callable[[], datetime]


class IncidentActionRefused(PbossError):
    """An engineer's action the incident's state or the arguments do not allow."""

    code = "incident_action_refused"

    def __init__(self, incident_id: str, reasons: list[str]):
        self.incident_id = incident_id
        self.reasons = reasons
        super().__init__(f"{incident_id}: {'; '.join(reasons)}")


def _entry(inc: Incident, now: datetime, event: str, actor: str, note: str) -> None:
    """Add a history entry to the incident."""
    inc.history = [
        *inc.history,
        Entry(at=now, event=event, state=str(inc.state), actor=actor, note=note).dumps(),
    ]
    inc.updated_at = now


def _active(tx: GraphTx, incident_id: str) -> Incident:
    """The incident, locked; refused unless open or confirmed."""
    el = tx.lock([incident_id]).get(incident_id)
    if not isinstance(el, Incident):
        raise NotFound(incident_id)
    inc = el.model_copy(deep=True)
    if inc.state not in (IncidentState.OPEN, IncidentState.CONFIRMED):
        raise IncidentActionRefused(incident_id, [f"the incident is {inc.state}"])
    return inc


class IncidentDesk:
    """The engineer's actions on incidents, over one store, with one clock."""

    def __init__(self, store: GraphStore, clock: Clock = utcnow):
        self.store = store
        self.clock = clock

    def confirm(self, incident_id: str, *, actor: str, note: str = "") -> Incident:
        """Confirm the suspect: the incident stays on it whatever arrives."""
        now = self.clock()

        def work(tx: GraphTx) -> Incident:
            inc = _active(tx, incident_id)
            if inc.state == IncidentState.CONFIRMED:
                return inc  # confirming again changes nothing
            if IncidentState.CONFIRMED not in INCIDENT_TRANSITIONS[IncidentState(inc.state)]:
                raise IncidentActionRefused(incident_id, [f"the incident is {inc.state}"])
            inc.state = IncidentState.CONFIRMED
            inc.confirmed_by = actor
            _entry(inc, now, "confirmed", actor, note or f"{actor} confirmed {inc.suspected}")
            _rechoose(inc, inc.suspected, f"confirmed by {actor}")
            tx.put(inc)
            tx.emit(incident_event(inc, INCIDENT_STATE, f"confirmed by {actor}", now))
            return inc

        return self.store.transact(work, actor=actor, reason=f"confirm {incident_id}")

    def repoint(self, incident_id: str, resource_id: str, *, actor: str, note: str) -> Incident:
        """Point the incident at another resource (the explanation is kept, the engineer's choice
        named); new evidence through that resource finds it."""
        now = self.clock()
        riders = riders_of(self.store, [resource_id])

        def work(tx: GraphTx) -> Incident:
            inc = _active(tx, incident_id)
            res = tx.lock([resource_id]).get(resource_id)
            if res is None:
                raise NotFound(resource_id)
            if res.kind not in CAUSE_KINDS:
                raise IncidentActionRefused(
                    incident_id, [f"{resource_id} is a {res.kind}, not a network resource"]
                )
            if res.id == inc.suspected:
                raise IncidentActionRefused(incident_id, [f"it already suspects {resource_id}"])
            ct, made = _tally(tx, res, riders)
            old = inc.suspected
            old_ct = tx.lock([tally_id(old)]).get(tally_id(old))
            inc.suspected = res.id
            inc.confirmed_by = actor
            if inc.state == IncidentState.OPEN:
                inc.state = IncidentState.CONFIRMED
            _entry(inc, now, "repointed", actor, f"{old} -> {res.id}: {note}")
            _rechoose(inc, res.id, f"re-pointed by {actor}: {note}", ct)
            ct.incidents = sorted({*ct.incidents, inc.id})
            ct.suspected_by = sorted({*ct.suspected_by, inc.id})
            tx.put(ct, new=made)
            if isinstance(old_ct, CauseTally):
                old_ct = old_ct.model_copy(deep=True)
                old_ct.suspected_by = [i for i in old_ct.suspected_by if i != inc.id]
                tx.put(old_ct)
            tx.unlink("SUSPECTS", inc.id, old)
            tx.link(Edge(type="SUSPECTS", src=inc.id, dst=res.id))
            tx.put(inc)
            what = f"re-pointed by {actor}; suspected {old} -> {res.id}"
            tx.emit(incident_event(inc, INCIDENT_CHANGE, what, now))
            return inc

        return self.store.transact(work, actor=actor, reason=f"re-point {incident_id}")

    def split(
        self, incident_id: str, ticket_ids: Sequence[str], *, actor: str, note: str
    ) -> tuple[Incident, Incident]:
        """Move the named tickets out into a new incident, on their own common cause; returns
        (the incident as it now is, the new one). Both keep what they suspect from then on."""
        now = self.clock()
        wanted = sorted(set(ticket_ids))

        def work(tx: GraphTx) -> tuple[Incident, Incident]:
            inc = _active(tx, incident_id)
            stray = [t for t in wanted if t not in inc.tickets]
            if not wanted or stray:
                why = f"not in the incident: {', '.join(stray)}" if stray else "name tickets"
                raise IncidentActionRefused(incident_id, [why])
            if len(wanted) == len(inc.tickets) and not inc.alarms:
                raise IncidentActionRefused(
                    incident_id, ["splitting out every ticket leaves nothing: re-point instead"]
                )
            edges = {
                el.id: (edge, el.model_copy(deep=True))
                for edge, el in tx.linked(incident_id, "GROUPED_IN", "in")
                if el.id in wanted and isinstance(el, TroubleTicket)
            }
            paths = {t: list(edges[t][1].path) for t in wanted if t in edges}
            ids = sorted({r for p in paths.values() for r in p})
            elements = tx.peek(ids)
            w = _Work(tx, now)
            cands = candidates(elements, ids)
            tx.lock(cands)
            for ct in tx.lock([tally_id(c) for c in cands]).values():
                if isinstance(ct, CauseTally):
                    w.tallies[ct.resource] = ct.model_copy(deep=True)
            resources = {
                c: w.tallies[c].as_resource()
                if c in w.tallies
                else Resource(id=c, kind=elements[c].kind, riders=estimate_riders(elements[c]))
                for c in cands
            }
            complaints = [
                Complaint(id=t, subject=str(edges[t][1].customer or t), path=p)
                for t, p in paths.items()
            ]
            corr = correlate(complaints, [], resources)
            cause = corr.chosen or inc.suspected
            new = Incident(
                id=f"{incident_id}-S{len(inc.history)}",
                name=f"Incident on {cause}",
                suspected=cause,
                confirmed_by=actor,
                state=IncidentState.CONFIRMED,
                tickets=wanted,
                priority=inc.priority,
                created_at=now,
                updated_at=now,
                sites=inc.sites,
                products=inc.products,
                partners=inc.partners,
                candidates=corr.dumps(),
            )
            _entry(new, now, "created", actor, f"split from {incident_id}: {note}")
            inc.tickets = [t for t in inc.tickets if t not in wanted]
            _entry(inc, now, "split", actor, f"{len(wanted)} ticket(s) to {new.id}: {note}")
            for c in cands:
                if c in w.tallies:
                    ct = w.tallies[c]
                    ct.incidents = sorted({*ct.incidents, new.id})
                    if c == cause:
                        ct.suspected_by = sorted({*ct.suspected_by, new.id})
                    tx.put(ct)
            for _t, (edge, el) in sorted(edges.items()):
                tx.repoint(edge, dst=new.id)
                el.incident = new.id
                tx.put(el)
            tx.put(new, new=True)
            tx.link(Edge(type="SUSPECTS", src=new.id, dst=cause))
            tx.put(inc)
            tx.emit(incident_event(new, INCIDENT_CREATE, f"split from {incident_id}", now))
            tx.emit(incident_event(inc, INCIDENT_CHANGE, f"split {wanted} to {new.id}", now))
            return inc, new

        return self.store.transact(work, actor=actor, reason=f"split {incident_id}")


def _tally(tx: GraphTx, res: Element, riders: dict[str, int]) -> tuple[CauseTally, bool]:
    """The resource's tally, locked, and whether it is made now (none existed)."""
    got = tx.lock([tally_id(res.id)]).get(tally_id(res.id))
    if isinstance(got, CauseTally):
        return got.model_copy(deep=True), False
    fresh = CauseTally(
        id=tally_id(res.id),
        resource=res.id,
        resource_kind=res.kind,
        resource_stage=getattr(res, "stage", None),
        riders=riders.get(res.id, estimate_riders(res)),
    )
    return fresh, True


def _rechoose(inc: Incident, chosen: str, why: str, ct: CauseTally | None = None) -> None:
    """Name the engineer's choice in the incident's explanation, keeping the ranking."""
    corr = Correlation.loads(inc.candidates if inc.candidates != "[]" else "") or Correlation()
    cands = list(corr.candidates)
    if ct is not None and all(c.resource != chosen for c in cands):
        cands.append(score(ct.as_resource(), ct.tally()))
    win = next((c for c in cands if c.resource == chosen), None)
    if win is None:
        return
    others = [c for c in cands if c is not win]
    corr = corr.model_copy(
        update={
            "chosen": chosen,
            "chosen_summary": f"{win.summary} ({why})",
            "candidates": [win, *others],
            "alternatives": [
                Alternative(
                    resource=c.resource,
                    summary=c.summary,
                    why_lost=f"the engineer chose {chosen}; on the evidence it "
                    + (
                        f"ranked above it ({c.summary})"
                        if c.sort_key() < win.sort_key()
                        else f"lost: {why_lost(c, win)}"
                    ),
                )
                for c in others
            ],
        }
    )
    inc.candidates = corr.dumps()
