"""The seam to correlation: tickets and alarms call `correlate_ticket` / `correlate_alarm` /
`release_ticket` of `pboss.assurance.incidents` (built beside this package) through here.

Those functions run in the batch correlator's transaction (`pending.py`; the ticket opening and
the alarm ingest only mark their record `correlate_due` and answer with `known`), after its reads
and before its writes; they set the record's `incident`, link GROUPED_IN and return the incident
(or None). A ticket's state change still releases or re-correlates inside its own transaction. Until
that module is present, the stand-in correlates nothing and only answers, for a ticket, with an
active incident already suspecting a resource on its path (read through SUSPECTS), so the
"known incident at first contact" answer works with or without correlation.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pboss.assurance.model import ACTIVE_INCIDENT_STATES, Incident, TroubleTicket
from pboss.inventory.transaction import GraphTx

#: Called as hook(tx, record, now=now).
TicketHook = Callable[..., Incident | None]
AlarmHook = Callable[..., Incident | None]


def suspecting(tx: GraphTx, path: Sequence[str]) -> Incident | None:
    """An active incident with a SUSPECTS edge to a resource on the path, the nearest the path's
    start first, or None: one read of the whole path's edges."""
    path = list(dict.fromkeys(path))
    edges = tx.linked_many(path, "SUSPECTS", "in")
    for resource in path:
        for _, el in edges[resource]:
            if isinstance(el, Incident) and el.state in ACTIVE_INCIDENT_STATES:
                return el
    return None


def known_incident(tx: GraphTx, ticket: TroubleTicket, **_: Any) -> Incident | None:
    """An active incident suspecting a resource on the ticket's path (the nearest the customer
    end first), or None: what the stand-in answers with."""
    return suspecting(tx, ticket.path)


def _none(tx: GraphTx, record: Any, **_: Any) -> Incident | None:
    return None


@dataclass(frozen=True, slots=True)
class Correlator:
    """The three hooks a ticket's and an alarm's units of work call."""

    correlate_ticket: TicketHook
    correlate_alarm: AlarmHook
    release_ticket: TicketHook
    #: True when the incidents module is present (False: the stand-in).
    live: bool = True
    #: The incident known on a new ticket's path, read without locks (what opening answers).
    known: TicketHook = known_incident


#: Correlates nothing; a ticket is still told of a known incident on its path.
STAND_IN = Correlator(known_incident, _none, _none, live=False)


def default_correlator() -> Correlator:
    """The incidents module's hooks when it is present, else the stand-in."""
    try:
        mod = importlib.import_module("pboss.assurance.incidents")
    except ModuleNotFoundError as exc:
        if exc.name != "pboss.assurance.incidents":
            raise
        return STAND_IN
    pending = importlib.import_module("pboss.assurance.pending")
    return Correlator(
        mod.correlate_ticket, mod.correlate_alarm, mod.release_ticket, known=pending.known_incident
    )
