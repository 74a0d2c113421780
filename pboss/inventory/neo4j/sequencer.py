"""Numbering the event log on Neo4j after the commit, in coalesced rounds, off the writers' path.

Why: the log's numbers must be gap-free and follow commit order (`events_after` readers, the
hub's ceiling, CRM's cursor rely on "a number read means every lower one is readable"). Numbering
inside each writing transaction made every writer take the one `:EventSeq` counter from its write
statement to its commit, so a storm's ticket openings queued behind each other's and the batch
correlator's commits (issue 19). Now a transaction stores its events unnumbered
(`queries/events.py`, `:EventDue`), commits without any shared lock, and then, before
`transact` returns, its writer makes sure they are numbered: a round (`queries.events.NUMBER`, one
statement, auto-committed: one round trip) locks the counter, numbers every committed due event
in stamp order, and commits.

A round numbers whatever is due, anyone's, so rounds coalesce: in a process one round runs at a
time (`_lock`), and the writers that waited for it usually find their events numbered by it and
need no round trip at all (`_numbered` keeps what the rounds numbered until the writers ask).
Across processes the counter's lock orders the rounds. A writer that dies after its commit
leaves its events due; the next round anywhere numbers them (the store numbers what is due when
it starts, too: `Neo4jStore.__init__`), so none is lost, and none is read before it has a number.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence

from pboss.inventory.neo4j.client import Neo4jClient
from pboss.inventory.neo4j.queries import events as q

log = logging.getLogger(__name__)

#: How many numbers of events nobody in this process asked for yet (other processes' events) a
#: sequencer keeps before forgetting the oldest (a writer whose number was forgotten reads it).
KEEP = 50_000


class Sequencer:
    """Numbers committed events for one store (see the module docstring)."""

    def __init__(self, client: Neo4jClient):
        self.client = client
        self._lock = threading.Lock()
        self._numbered: OrderedDict[str, int] = OrderedDict()
        #: Rounds run by this process (tests and the profile read it).
        self.rounds = 0

    def number(self, event_ids: Sequence[str]) -> int:
        """The highest number of these committed events, numbering every due event first when
        one of them has none yet (0 for no events)."""
        if not event_ids:
            return 0
        with self._lock:
            got = self._take(event_ids)
            if len(got) < len(event_ids):
                self._remember(self.client.write_once(q.NUMBER))
                self.rounds += 1
                got.update(self._take(event_ids))
        if len(got) < len(event_ids):  # numbered by another process's round meanwhile
            rows = self.client.read(q.SEQ_OF, ids=list(event_ids))
            got.update({r["id"]: int(r["seq"]) for r in rows})
        missing = sorted(set(event_ids) - got.keys())
        if missing:  # pragma: no cover - a committed event is numbered by the round after it
            raise RuntimeError(f"events committed but not numbered: {missing[:5]}")
        return max(got.values())

    def catch_up(self) -> int:
        """Number whatever is due now (a writer that died after its commit left it); how many."""
        if not self.client.read(q.ANY_DUE)[0]["due"]:
            return 0
        with self._lock:
            rows = self.client.write_once(q.NUMBER)
            self.rounds += 1
            self._remember(rows)
        return len(rows)

    def forget(self) -> None:
        """Drop the numbers kept (the log was cleared; numbering restarts)."""
        with self._lock:
            self._numbered.clear()

    def _take(self, event_ids: Sequence[str]) -> dict[str, int]:
        return {i: self._numbered.pop(i) for i in event_ids if i in self._numbered}

    def _remember(self, rows: list[dict[str, object]]) -> None:
        for row in rows:
            self._numbered[str(row["id"])] = int(row["seq"])  # type: ignore[call-overload]
        while len(self._numbered) > KEEP:
            self._numbered.popitem(last=False)
