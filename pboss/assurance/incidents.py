"""Correlation inside the write transaction: a ticket or an alarm joins or creates an incident.

Called by the ticket opening and the alarm ingest (pboss.assurance, a-core) inside their own
`GraphStore.transact`, after their reads and before their first write (a `GraphTx` reads
everything, then writes):

- `correlate_ticket(tx, ticket, riders=None, now=None) -> Incident | None`: the ticket (with its
  `path` filled, customer end first; not yet written, or written before in another transaction)
  joins the incident on its most likely common cause, or creates one; `ticket.incident` is set
  and the `GROUPED_IN` edge linked, so the caller then `put`s the ticket. None when the path
  holds no resource that can be a cause, or the ticket is not open.
- `correlate_alarm(tx, alarm, riders=None, now=None) -> Incident | None`: the same for an alarm;
  a raised alarm adds its evidence, a cleared one takes it away (its incident re-ranked, resolved
  when nothing is left and no work was dispatched). Sets `alarm.incident`; the caller `put`s it.
- `release_ticket(tx, ticket)` takes a resolved or cancelled ticket's evidence away;
  `release_incident(tx, incident_id)` takes a resolved incident's whole evidence away (what the
  resolution calls once, rather than once per ticket).

`riders` maps resource ids to their customers, counted before the transaction by `riders_of`
(one `GraphStore.riders` per resource, cached briefly); without it a new tally takes an estimate
from the resource's capacity (`tallies.estimate_riders`), and an OLT's share stays unknown.

How: the evidence is counted per resource in `CauseTally` nodes (`tallies.py`), so a ticket
reads and writes only its path's tallies. The ranking (`correlation.rank`) over the path's
tallies names the winner W; the open incidents holding evidence through W (listed on W's tally)
and those suspecting a resource above W are gathered; none: a new incident suspects W; one: the
ticket joins it and it now suspects W (it moves up from a splitter to its port when the port
explains more); several: the biggest absorbs the others, which are cancelled with a note naming
it, their tickets and alarms moved over (work proportional to what is absorbed, once). An
incident an engineer confirmed or re-pointed keeps its suspect and absorbs nothing of theirs.
The impact (riders of the suspect) is counted after the commit by `refresh_impact`.

Size: the incremental bookkeeping (tallies up and down, gathering, absorbing) is one algorithm
whose parts share the same reads; split across modules it would be harder to check.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pboss.assurance.correlation import (
    SERVICE_AFFECTING,
    SEVERITY_WEIGHT,
    Alternative,
    CandidateScore,
    Correlation,
    rank,
    score,
    why_lost,
)
from pboss.assurance.events import incident_event
from pboss.assurance.model import (
    ACTIVE_INCIDENT_STATES,
    OPEN_TICKET_STATES,
    PRIORITY_ORDER,
    Alarm,
    AlarmState,
    Entry,
    Incident,
    IncidentState,
    Priority,
    TroubleTicket,
)
from pboss.assurance.tallies import (
    CAUSE_KINDS,
    CauseTally,
    candidates,
    estimate_riders,
    path_up,
    tally_id,
)
from pboss.inventory.errors import NotFound
from pboss.inventory.model import Edge, Element
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx

#: Who writes what correlation decides, in histories.
ACTOR = "pboss-correlation"


def utcnow() -> datetime:
    """Now, in UTC (callers with a clock pass `now`)."""
    return datetime.now(UTC)


def incident_id_for(first_evidence: str) -> str:
    """An incident's id, from the ticket or alarm that opened it (stable across retries)."""
    return f"INC-{first_evidence}"


@dataclass
class _Work:
    """One correlation's reads, then its writes."""

    tx: GraphTx
    now: datetime
    tallies: dict[str, CauseTally] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)
    incidents: dict[str, Incident] = field(default_factory=dict)
    events: list[tuple[Incident, str, str]] = field(default_factory=list)

    # ---- reads ------------------------------------------------------------------------------

    def read_tallies(
        self, path: Sequence[str], riders: Mapping[str, int]
    ) -> tuple[list[str], dict[str, Element]]:
        """Lock the path's resources, then read their tallies (making the missing ones): two
        reads, so that a tally another transaction made while this one waited for the
        resource's lock is seen, never made twice. Returns the candidates, in path order,
        and the path's elements."""
        ids = list(dict.fromkeys(path))
        elements = self.tx.lock(ids)
        cands = candidates(elements, ids)
        got = self.tx.lock([tally_id(c) for c in cands])
        for c in cands:
            ct = got.get(tally_id(c))
            if not isinstance(ct, CauseTally):
                el = elements[c]
                ct = CauseTally(
                    id=tally_id(c),
                    resource=c,
                    resource_kind=el.kind,
                    resource_stage=getattr(el, "stage", None),
                    riders=riders.get(c, estimate_riders(el)),
                )
                self.fresh.add(c)
            else:
                ct = ct.model_copy(deep=True)  # a store may keep what it read under lock
                if c in riders and riders[c] != ct.riders:
                    ct.riders = riders[c]
            self.tallies[c] = ct
        return cands, elements

    def read_incidents(self, ids: Iterable[str]) -> list[Incident]:
        """Lock these incidents; the active ones, as Incident."""
        want = sorted(set(ids) - set(self.incidents))
        for iid, el in self.tx.lock(want).items():
            if isinstance(el, Incident):
                self.incidents[iid] = el.model_copy(deep=True)  # what was read stays as read
        return [
            self.incidents[i]
            for i in sorted(set(ids))
            if i in self.incidents and self.incidents[i].state in ACTIVE_INCIDENT_STATES
        ]

    def suspecting(self, resource_ids: Iterable[str]) -> list[str]:
        """Incidents suspecting one of these resources (their tallies say; no read)."""
        return [i for rid in resource_ids for i in self.tallies[rid].suspected_by]

    def suspect(self, inc: Incident, old: str | None, new: str | None) -> None:
        """Record on the tallies (those read) that the incident moved from `old` to `new`."""
        if old is not None and old in self.tallies:
            ct = self.tallies[old]
            ct.suspected_by = [i for i in ct.suspected_by if i != inc.id]
        if new is not None and new in self.tallies:
            ct = self.tallies[new]
            ct.suspected_by = sorted({*ct.suspected_by, inc.id})

    # ---- tallies ----------------------------------------------------------------------------

    def lowest_alarmed(self, cands: Sequence[str]) -> int | None:
        """The index of the first resource on the path with its own service-affecting alarm."""
        for i, c in enumerate(cands):
            if self.tallies[c].alarm_weight > 0:
                return i
        return None

    def add_complaint(self, cands: Sequence[str], sign: int) -> None:
        """Count one complaint in (+1) or out (-1) on every tally of its path."""
        low = self.lowest_alarmed(cands)
        for i, c in enumerate(cands):
            ct = self.tallies[c]
            ct.complaints = max(0, ct.complaints + sign)
            if low is not None and i >= low:
                ct.covered = max(0, ct.covered + sign)
        if low is not None:
            x = self.tallies[cands[low]]
            x.own_cover = max(0, x.own_cover + sign)

    def add_alarm(self, cands: Sequence[str], severity: str, sign: int) -> None:
        """Count one alarm on cands[0] in or out; covering or uncovering the complaints below."""
        x = self.tallies[cands[0]]
        if severity not in SERVICE_AFFECTING:
            x.minor = max(0, x.minor + sign)
            return
        was = x.alarm_weight > 0
        x.alarm_weight = max(0.0, round(x.alarm_weight + sign * SEVERITY_WEIGHT[severity], 3))
        now = x.alarm_weight > 0
        if sign > 0 and not was:
            delta = max(0, x.complaints - x.covered)
            x.own_cover += delta
        elif sign < 0 and was and not now:
            delta = -x.own_cover
            x.own_cover = 0
        else:
            delta = 0
        for c in cands:
            ct = self.tallies[c]
            ct.alarms = max(0, ct.alarms + sign)
            ct.covered = max(0, min(ct.complaints, ct.covered + delta))
            alarmed = ct.alarmed_map()
            if now:
                alarmed[x.resource] = x.riders
            else:
                alarmed.pop(x.resource, None)
            ct.set_alarmed(alarmed)

    # ---- ranking ----------------------------------------------------------------------------

    def ranking(self, cands: Sequence[str]) -> Correlation:
        """Rank this path's candidates on their tallies."""
        tallies = {c: self.tallies[c].tally() for c in cands}
        resources = {c: self.tallies[c].as_resource() for c in cands}
        return rank(tallies, resources, complaints=0, alarms=0)

    def explain(self, inc: Incident, cands: Sequence[str]) -> None:
        """Re-score this path's candidates in the incident's explanation (the others keep their
        last scores), ranked again, the suspect chosen."""
        old = Correlation.loads(inc.candidates if inc.candidates != "[]" else "") or Correlation()
        fresh = {c: score(self.tallies[c].as_resource(), self.tallies[c].tally()) for c in cands}
        merged = {c.resource: c for c in old.candidates}
        merged.update(fresh)
        ranked = sorted(merged.values(), key=CandidateScore.sort_key)
        win = next((c for c in ranked if c.resource == inc.suspected), ranked[0])
        others = [c for c in ranked if c is not win]
        shared = [c for c in others if c.explains > 1 or c.alarm_weight > 0][:11]
        single = [c for c in others if c not in shared][: max(0, 11 - len(shared))]
        shown = [win, *shared, *single]
        chosen_by = "" if inc.confirmed_by is None else f" (confirmed by {inc.confirmed_by})"
        corr = Correlation(
            chosen=win.resource,
            chosen_summary=win.summary + chosen_by,
            complaints=len(inc.tickets),
            alarms=len(inc.alarms),
            candidates=shown,
            alternatives=[
                Alternative(resource=c.resource, summary=c.summary, why_lost=why_lost(c, win))
                for c in shown[1:]
            ],
            considered=max(old.considered, len(merged)),
        )
        if inc.confirmed_by is not None:
            for alt in corr.alternatives:
                if alt.why_lost.startswith(("explains less", "not plausible", "less specific")):
                    continue
                alt.why_lost = f"the engineer chose {win.resource}; {alt.why_lost}"
        inc.candidates = corr.dumps()

    # ---- writes -----------------------------------------------------------------------------

    def note(self, inc: Incident, event: str, note: str, actor: str = ACTOR) -> None:
        """Add a history entry."""
        inc.history = [
            *inc.history,
            Entry(at=self.now, event=event, state=str(inc.state), actor=actor, note=note).dumps(),
        ]
        inc.updated_at = self.now

    def write(self, skip_tallies: bool = False) -> None:
        """Write the tallies (deleting none: an empty tally is kept, cheap and reusable), the
        incidents, and their events."""
        tx = self.tx
        if not skip_tallies:
            for c, ct in sorted(self.tallies.items()):
                tx.put(ct, new=c in self.fresh)
        for inc, etype, what in self.events:
            tx.emit(incident_event(inc, etype, what, self.now))


def _priority(values: Iterable[str]) -> Priority:
    """The most urgent of these priorities."""
    order = {p.value: i for i, p in enumerate(PRIORITY_ORDER)}
    best = min((order.get(str(v), len(order)) for v in values), default=len(order))
    return PRIORITY_ORDER[best] if best < len(order) else Priority.MEDIUM


def _scope(inc: Incident, sites: Sequence[str], products: Sequence[str], partners: Sequence[str]):
    """Widen an incident's event scope."""
    inc.sites = sorted(set(inc.sites) | set(sites))
    inc.products = sorted(set(inc.products) | set(products))
    inc.partners = sorted(set(inc.partners) | set(partners))


def _place(
    w: _Work, cands: Sequence[str], evidence: str, is_ticket: bool
) -> tuple[Incident, list[Incident], bool, str | None]:
    """Decide where the evidence goes: (the incident, those it absorbs, created, what it
    suspected before)."""
    corr = w.ranking(cands)
    winner = corr.chosen or cands[0]
    at = cands.index(winner)
    above = w.suspecting(cands[at + 1 :])
    gathered = w.read_incidents([*w.tallies[winner].incidents, *above])
    fixed = [i for i in gathered if i.confirmed_by is not None]
    if not gathered:
        inc = Incident(
            id=incident_id_for(evidence),
            name=f"Incident on {winner}",
            suspected=winner,
            created_at=w.now,
            updated_at=w.now,
        )
        w.note(inc, "created", f"opened by {'ticket' if is_ticket else 'alarm'} {evidence}")
        w.incidents[inc.id] = inc
        return inc, [], True, None
    higher = [i for i in gathered if i.suspected in cands[at + 1 :]]
    pool = fixed or higher or gathered
    survivor = max(pool, key=lambda i: (len(i.tickets) + len(i.alarms), i.id))
    absorbed = [
        i for i in gathered if i is not survivor and i.confirmed_by is None and i not in higher
    ]
    before = survivor.suspected
    if survivor.confirmed_by is None and survivor not in higher and before != winner:
        w.note(survivor, "suspectChanged", f"{before} -> {winner}: {corr.chosen_summary}")
        survivor.suspected = winner
    return survivor, absorbed, False, before


def _absorb_reads(w: _Work, absorbed: Sequence[Incident]) -> list[tuple[Edge, Element, list[str]]]:
    """Read the members of the incidents being absorbed and lock their paths' tallies."""
    members: list[tuple[Edge, Element, list[str]]] = []
    edges = [e for inc in absorbed for e, _ in w.tx.linked(inc.id, "GROUPED_IN", "in")]
    locked = w.tx.lock([e.src for e in edges])  # a ticket's or alarm's own writers lock it too
    for edge in edges:
        el = locked.get(edge.src)
        if el is None:
            continue
        path = list(getattr(el, "path", [])) if isinstance(el, TroubleTicket) else []
        if isinstance(el, Alarm):
            path = path_up(w.tx, el.resource)
        members.append((edge, el.model_copy(deep=True), path))
    ids = sorted({c for _, _, p in members for c in p} - set(w.tallies))
    for _rid, ct in w.tx.lock([tally_id(i) for i in ids]).items():
        if isinstance(ct, CauseTally):
            w.tallies[ct.resource] = ct.model_copy(deep=True)
    return members


def _absorb_writes(
    w: _Work,
    survivor: Incident,
    absorbed: Sequence[Incident],
    members: Sequence[tuple[Edge, Element, list[str]]],
) -> None:
    """Move the absorbed incidents' evidence to the survivor and cancel them with a note."""
    gone = {i.id for i in absorbed}
    for ct in w.tallies.values():
        if gone & set(ct.incidents):
            ct.incidents = sorted((set(ct.incidents) - gone) | {survivor.id})
    for edge, el, _ in members:
        w.tx.repoint(edge, dst=survivor.id)
        if isinstance(el, TroubleTicket | Alarm):
            el.incident = survivor.id
            w.tx.put(el)
    for inc in absorbed:
        survivor.tickets = sorted(set(survivor.tickets) | set(inc.tickets))
        survivor.alarms = sorted(set(survivor.alarms) | set(inc.alarms))
        _scope(survivor, inc.sites, inc.products, inc.partners)
        note = (
            f"absorbed into {survivor.id} (suspecting {survivor.suspected}) with "
            f"{len(inc.tickets)} ticket(s) and {len(inc.alarms)} alarm(s)"
        )
        inc.state = IncidentState.CANCELLED
        w.suspect(inc, inc.suspected, None)
        w.note(inc, "absorbed", note)
        w.events.append((inc, "IncidentStateChangeEvent", "absorbed"))
        w.note(survivor, "merged", f"absorbed {inc.id} (suspected {inc.suspected})")
    if absorbed:
        survivor.priority = _priority([survivor.priority, *(i.priority for i in absorbed)])


def _commit_incident(
    w: _Work,
    inc: Incident,
    created: bool,
    old_suspect: str | None,
    cands: Sequence[str],
    what: str,
) -> None:
    """Write the incident, its SUSPECTS edge, its tallies' index and its event."""
    for c in cands:
        ct = w.tallies[c]
        if inc.id not in ct.incidents:
            ct.incidents = sorted({*ct.incidents, inc.id})
    w.explain(inc, cands)
    if old_suspect != inc.suspected:
        w.suspect(inc, old_suspect, inc.suspected)
        if old_suspect is not None:
            w.tx.unlink("SUSPECTS", inc.id, old_suspect)
        w.tx.link(Edge(type="SUSPECTS", src=inc.id, dst=inc.suspected))
    etype = "IncidentCreateEvent" if created else "IncidentAttributeValueChangeEvent"
    if old_suspect is not None and old_suspect != inc.suspected:
        what = f"{what}; suspected {old_suspect} -> {inc.suspected}"
    w.events.append((inc, etype, what))


def _correlate(
    tx: GraphTx,
    evidence: TroubleTicket | Alarm,
    path: Sequence[str],
    riders: Mapping[str, int] | None,
    now: datetime | None,
) -> Incident | None:
    """The common body of correlate_ticket and correlate_alarm (a raise)."""
    w = _Work(tx, now or utcnow())
    cands, _elements = w.read_tallies(path, riders or {})
    if not cands:
        return None
    is_ticket = isinstance(evidence, TroubleTicket)
    if is_ticket:
        w.add_complaint(cands, +1)
    else:
        assert isinstance(evidence, Alarm)
        w.add_alarm(cands, str(evidence.severity), +1)
    inc, absorbed, created, old_suspect = _place(w, cands, evidence.id, is_ticket)
    members = _absorb_reads(w, absorbed) if absorbed else []
    # ---- writes from here on ----
    if absorbed:
        _absorb_writes(w, inc, absorbed, members)
    if is_ticket:
        assert isinstance(evidence, TroubleTicket)
        inc.tickets = sorted({*inc.tickets, evidence.id})
        inc.priority = _priority([inc.priority, evidence.priority])
        _scope(inc, evidence.sites, evidence.products, evidence.partners)
        what = f"ticket {evidence.id} joined"
    else:
        assert isinstance(evidence, Alarm)
        inc.alarms = sorted({*inc.alarms, evidence.id})
        _scope(inc, evidence.sites, [], evidence.partners)
        what = f"alarm {evidence.id} ({evidence.severity}) on {evidence.resource} joined"
    inc.updated_at = w.now
    _commit_incident(w, inc, created, old_suspect, cands, what)
    evidence.incident = inc.id
    tx.link(Edge(type="GROUPED_IN", src=evidence.id, dst=inc.id))
    for i in absorbed:
        tx.put(i)
    tx.put(inc, new=created)
    w.write()
    return inc


def correlate_ticket(
    tx: GraphTx,
    ticket: TroubleTicket,
    *,
    riders: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> Incident | None:
    """Join the open ticket to the incident on its most likely common cause, or open one; sets
    `ticket.incident` and links GROUPED_IN (the caller puts the ticket). Call after the unit of
    work's reads and before its writes. A ticket already in an active incident stays there."""
    if ticket.state not in OPEN_TICKET_STATES or not ticket.path:
        return None
    if ticket.incident:
        current = tx.lock([ticket.incident]).get(ticket.incident)
        if isinstance(current, Incident) and ticket.id in current.tickets:
            return current
    return _correlate(tx, ticket, ticket.path, riders, now)


def correlate_alarm(
    tx: GraphTx,
    alarm: Alarm,
    *,
    riders: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> Incident | None:
    """A raised alarm joins or opens an incident (sets `alarm.incident`, links GROUPED_IN; the
    caller puts the alarm); a cleared one leaves its incident, which is re-ranked, and resolved
    when nothing is left in it and no work was dispatched. Call after the reads, before writes."""
    if alarm.state == AlarmState.CLEARED:
        if not alarm.incident:
            return None
        return _release(tx, alarm, path_up(tx, alarm.resource), now)
    if alarm.incident:
        current = tx.lock([alarm.incident]).get(alarm.incident)
        if isinstance(current, Incident) and alarm.id in current.alarms:
            return current
    return _correlate(tx, alarm, path_up(tx, alarm.resource), riders, now)


def release_ticket(
    tx: GraphTx, ticket: TroubleTicket, *, now: datetime | None = None
) -> Incident | None:
    """Take a ticket that is no longer open (resolved, cancelled) out of the evidence, its
    incident re-ranked; call after the reads, before writes. Returns the incident."""
    if not ticket.incident or not ticket.path:
        return None
    return _release(tx, ticket, ticket.path, now)


def _release(
    tx: GraphTx, evidence: TroubleTicket | Alarm, path: Sequence[str], now: datetime | None
) -> Incident | None:
    """Take one ticket's or alarm's evidence out of the tallies and of its incident."""
    w = _Work(tx, now or utcnow())
    cands, _elements = w.read_tallies(path, {})
    got = w.read_incidents([evidence.incident or ""])
    inc = got[0] if got else None
    is_ticket = isinstance(evidence, TroubleTicket)
    counted = inc is not None and evidence.id in (inc.tickets if is_ticket else inc.alarms)
    if not counted or inc is None:
        return None
    if is_ticket:
        w.add_complaint(cands, -1)
        inc.tickets = [t for t in inc.tickets if t != evidence.id]
        what = f"ticket {evidence.id} left ({evidence.state})"
    else:
        assert isinstance(evidence, Alarm)
        w.add_alarm(cands, str(evidence.severity), -1)
        inc.alarms = [a for a in inc.alarms if a != evidence.id]
        what = f"alarm {evidence.id} on {evidence.resource} cleared"
    for c in cands:
        ct = w.tallies[c]
        if ct.empty:
            ct.incidents = []
    w.fresh -= set(cands) - {c for c in cands if w.tallies[c].complaints or w.tallies[c].alarms}
    w.explain(inc, cands)
    inc.updated_at = w.now
    if not inc.tickets and not inc.alarms and inc.work_order is None:
        w.suspect(inc, inc.suspected, None)
        inc.state = IncidentState.RESOLVED
        inc.resolved_at = w.now
        w.note(inc, "resolved", f"{what}; nothing is left in it")
        w.events.append((inc, "IncidentStateChangeEvent", "resolved: no evidence left"))
    else:
        w.note(inc, "evidenceLeft", what)
        w.events.append((inc, "IncidentAttributeValueChangeEvent", what))
    tx.put(inc)
    _write_known_tallies(w)
    return inc


def _write_known_tallies(w: _Work) -> None:
    """Write the tallies read (a tally never made is not written: it had nothing to count)."""
    for c, ct in sorted(w.tallies.items()):
        if c in w.fresh:
            continue
        w.tx.put(ct)
    w.write(skip_tallies=True)


def release_incident(tx: GraphTx, incident_id: str, *, now: datetime | None = None) -> int:
    """Take all of an incident's evidence out of the tallies (what resolving or cancelling it
    calls, once, in its transaction, after the reads and before writes); returns how many
    tickets and alarms were taken out. The incident itself is left to the caller."""
    w = _Work(tx, now or utcnow())
    inc = tx.lock([incident_id]).get(incident_id)
    if not isinstance(inc, Incident):
        return 0
    members = []
    for _edge, el in tx.linked(incident_id, "GROUPED_IN", "in"):
        if isinstance(el, TroubleTicket) and el.id in inc.tickets and el.path:
            members.append((el, list(el.path)))
        elif isinstance(el, Alarm) and el.id in inc.alarms:
            members.append((el, path_up(tx, el.resource)))
    ids = sorted({c for _, p in members for c in p})
    elements = tx.peek(ids)
    tx.lock(candidates(elements, ids))
    for _rid, ct in tx.lock([tally_id(i) for i in ids]).items():
        if isinstance(ct, CauseTally):
            w.tallies[ct.resource] = ct.model_copy(deep=True)
    n = 0
    for el, path in members:
        cands = [c for c in candidates(elements, path) if c in w.tallies]
        if not cands:
            continue
        n += 1
        if isinstance(el, TroubleTicket):
            w.add_complaint(cands, -1)
        elif cands[0] == el.resource:
            w.add_alarm(cands, str(el.severity), -1)
    for ct in w.tallies.values():
        ct.incidents = [] if ct.empty else [i for i in ct.incidents if i != incident_id]
        tx.put(ct)
    return n


def riders_of(
    store: GraphStore, resources: Sequence[str | Element], *, ttl: float = 60.0
) -> dict[str, int]:
    """Customers depending on each resource (`GraphStore.riders` totals), for `correlate_*`'s
    `riders`; counted before the transaction, cached `ttl` seconds per store and resource (an
    OLT's four thousand customers are counted once a minute, not once per ticket). Given as
    elements (a trace's hops, customer end first), an ONT, and the splitter output it hangs
    on, count one without a read; a service or a place is skipped."""
    cache: dict[str, tuple[float, int]] = _CACHE.setdefault(id(store), {})
    now = time.monotonic()
    out: dict[str, int] = {}
    ids: list[str] = []
    prev: str | None = None
    for res in resources:
        if isinstance(res, str):
            ids.append(res)
        elif res.kind == "ONT" or (res.kind == "SplitterPort" and prev == "ONT"):
            out[res.id] = 1
        elif res.kind in CAUSE_KINDS:
            ids.append(res.id)
        prev = None if isinstance(res, str) else res.kind
    for rid in dict.fromkeys(ids):
        hit = cache.get(rid)
        if hit is not None and now - hit[0] < ttl:
            out[rid] = hit[1]
            continue
        try:
            n = store.riders([rid], first=1).totals.customers
        except NotFound:  # a deleted resource: the transaction will find it gone too
            continue
        cache[rid] = (now, n)
        out[rid] = n
    return out


_CACHE: dict[int, dict[str, tuple[float, int]]] = {}
