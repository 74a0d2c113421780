"""The publisher: which sites to check, when, and a thread that does it (pboss serve's lifespan).

Sites become dirty three ways, and each flush publishes every dirty site's packages once, so a
burst of changes (a load of many elements, a run of reservations) becomes one event per package
that changed in a way CRM sells against (`pboss.crm.figures`):

- **order events** committed in this process (`GraphStore.watch_events`): the sites of their
  scope (a reservation, a release, a confirmation at a site);
- **inventory writes** through a `TouchingStore` (the API's mutations, loads): the sites their
  nodes name, and the sites whose packages hang off an element written (an OLT set FAULTY
  touches every site under it). That element -> sites mapping comes from the packages already
  seen (each component's anchor, chain, PON port and OLT), and for an element of the access
  chain not seen yet, from walking its dependants (`neighbours_many`, a few round trips);
- a site checked brings the sites sharing one of its PON ports (a reservation there uses the
  PON port's split budget, which can leave a neighbour's splitter unsellable).

A flush waits `debounce` seconds after the first change, then takes everything dirty. A full
`reconcile` runs at start (which also covers the start-up loads) and every `reconcile_every`
seconds, catching what other processes changed. Failures are logged and the sites stay dirty;
the next reconcile would catch them anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pboss.config import Settings
from pboss.crm.figures import Thresholds
from pboss.crm.publishing import EVENT_TYPE, Clock, Outcome, Publishing
from pboss.crm.touch import CHAIN_KINDS, Touches
from pboss.inventory.business import Package
from pboss.inventory.catalog import Catalog
from pboss.inventory.events import MAX_EVENTS_PAGE
from pboss.inventory.model import Element
from pboss.inventory.store import GraphStore

log = logging.getLogger(__name__)

#: Edge types walked from an element of the chain to what depends on it.
CHAIN_EDGES = ("PART_OF", "FED_BY")
#: The periodic reconcile's default interval on a store other processes write to (Neo4j): a
#: pass over the medium metro takes 16-31 s there (bench/README.md), 5-10 % of one thread.
RECONCILE_SECONDS = 300.0
#: Elements looked up (or walked from) per store call.
LOOKUP_BATCH = 1000
#: More touched elements than this (a big load) and a flush reconciles everything instead of
#: finding their sites one batch at a time: one pass, still one event per changed package.
RESOLVE_LIMIT = 20_000


class Publisher:
    """Keeps the dirty sites and publishes them, coalesced; see the module doc."""

    def __init__(
        self,
        store: GraphStore,
        catalog: Catalog,
        *,
        debounce: float = 0.5,
        reconcile_every: float = 300.0,
        thresholds: Thresholds | None = None,
        clock: Clock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        touches: Touches | None = None,
    ):
        self.store = store
        self.publishing = Publishing(
            store, catalog, thresholds=thresholds, clock=clock, observer=self._observe
        )
        self.debounce = debounce
        self.reconcile_every = reconcile_every
        self.monotonic = monotonic
        self.touches = touches or Touches()
        self._cond = threading.Condition()
        self._sites: set[str] = set()
        self._elements: set[str] = set()
        self._dirty_since: float | None = None
        self._events_heard = False
        try:  # where the order events were last read: what commits from now on counts
            self._cursor = store.last_event_seq()
        except NotImplementedError:  # a store without the event hub's reads (`start` says so)
            self._cursor = 0
        self._deps: dict[str, set[str]] = defaultdict(set)  # element id -> sites hanging off it
        self._pons: dict[str, set[str]] = {}  # site -> PON ports its splitters use
        self._deps_lock = threading.Lock()
        self._stops: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.published = 0  # events written by this publisher (for logs and tests)

    # ---- triggers --------------------------------------------------------------------------------

    def touch_sites(self, sites: Iterable[str]) -> None:
        """These sites changed: check them at the next flush."""
        self.touches.add(sites, ())

    def touch_elements(self, element_ids: Iterable[str]) -> None:
        """These elements changed: check the sites whose packages they are part of."""
        self.touches.add((), element_ids)

    def _heard(self, last_seq: int) -> None:
        """A commit in this process added events (the store's watcher; must be quick)."""
        with self._cond:
            self._events_heard = True
        self._wake()

    def _wake(self) -> None:
        with self._cond:
            if self._dirty_since is None:
                self._dirty_since = self.monotonic()
            self._cond.notify_all()

    # ---- what a change touches -------------------------------------------------------------------

    def _observe(self, site: str, packages: Sequence[Package]) -> None:
        """Index what each package at a site hangs off (a check saw it)."""
        pons = set()
        with self._deps_lock:
            for pkg in packages:
                for c in pkg.components:
                    for eid in (c.anchor.id, c.pon_port, c.olt, *(e.id for e in c.chain)):
                        if eid:
                            self._deps[eid].add(site)
                    if c.pon_port:
                        pons.add(c.pon_port)
            self._pons[site] = pons

    def _new_event_sites(self) -> set[str]:
        """The scope sites of the events committed since the last look (ours excepted)."""
        sites: set[str] = set()
        while True:
            page = self.store.events_after(self._cursor, first=MAX_EVENTS_PAGE)
            for event in page:
                if event.type != EVENT_TYPE:
                    sites.update(event.sites)
            if page:
                self._cursor = page[-1].seq
            if len(page) < MAX_EVENTS_PAGE:
                return sites

    def _sites_of(self, element_ids: set[str]) -> set[str]:
        """The sites whose packages these elements are, or hang off."""
        ids = sorted(element_ids)
        found = {}
        for i in range(0, len(ids), LOOKUP_BATCH):
            found.update(self.store.get_many(ids[i : i + LOOKUP_BATCH]))
        sites = {el.id if el.kind == "Site" else el.site or "" for el in found.values()}
        with self._deps_lock:
            for eid in ids:
                sites |= self._deps.get(eid, set())
        frontier = sorted(i for i, el in found.items() if el.kind in CHAIN_KINDS)
        seen = set(frontier)
        while frontier:  # down the access chain, to the splitters (and their sites) below
            below: dict[str, list[tuple[Any, Element]]] = {}
            for i in range(0, len(frontier), LOOKUP_BATCH):
                part = frontier[i : i + LOOKUP_BATCH]
                below.update(self.store.neighbours_many(part, "in", list(CHAIN_EDGES)))
            frontier = []
            for pairs in below.values():
                for _, el in pairs:
                    if el.kind in CHAIN_KINDS and el.id not in seen:
                        seen.add(el.id)
                        frontier.append(el.id)
                        if el.site:
                            sites.add(el.site)
            frontier.sort()
        return sites - {""}

    def _neighbours(self, sites: set[str]) -> set[str]:
        """The sites sharing a PON port with one of these (its split budget is theirs too)."""
        out = set(sites)
        with self._deps_lock:
            for site in sites:
                for pon in self._pons.get(site, ()):
                    out |= self._deps.get(pon, set())
        return out

    # ---- flushing --------------------------------------------------------------------------------

    def flush(self) -> Outcome:
        """Publish every dirty site now (what the thread does after the debounce)."""
        with self._cond:
            sites, elements = self._sites, self._elements
            self._sites, self._elements = set(), set()
            self._dirty_since = None
            heard, self._events_heard = self._events_heard, False
        touched_sites, touched_elements = self.touches.drain()
        sites |= touched_sites
        elements |= touched_elements
        try:
            if heard or self._cursor < self.store.last_event_seq():
                sites |= self._new_event_sites()
            if len(elements) > RESOLVE_LIMIT:
                outcome = self.reconcile()
                return outcome
            sites |= self._sites_of(elements)
            # (our own events wake us too, and name no site to check)
            outcome = self.publishing.publish(self._neighbours(sites)) if sites else Outcome()
        except Exception:
            with self._cond:  # try again at the next flush
                self._sites |= sites
                self._elements |= elements
                self._events_heard = self._events_heard or heard
                if self._dirty_since is None:
                    self._dirty_since = self.monotonic()
            raise
        self.published += len(outcome.events)
        return outcome

    def reconcile(self) -> Outcome:
        """Compare every package with what was last published; publish the differences."""
        outcome = self.publishing.reconcile(lambda: self._stopping)
        self.published += len(outcome.events)
        return outcome

    # ---- the thread ------------------------------------------------------------------------------

    def start(self) -> None:
        """Listen for this process's commits and writes, and run the thread: a reconcile first
        (what start-up loaded, and what changed while no publisher ran), then flushes."""
        try:
            self._stops.append(self.store.watch_events(self._heard))
        except NotImplementedError:
            log.error("store %s cannot report its commits: no resource publishing", self.store.name)
            return
        self._stops.append(self.touches.listen(self._wake))
        self._thread = threading.Thread(target=self._run, name="pboss-publisher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and end the thread (a flush under way finishes first)."""
        for stop in self._stops:
            stop()
        self._stops.clear()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        next_reconcile = self.monotonic()
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = self.monotonic()
                due = [next_reconcile]
                if self._dirty_since is not None:
                    due.append(self._dirty_since + self.debounce)
                wait = min(due) - now
                if wait > 0:  # nothing due: sleep until something is, or a change wakes us
                    self._cond.wait(None if wait == float("inf") else wait)
                    continue
                dirty = self._dirty_since is not None and now >= self._dirty_since + self.debounce
            try:
                if now >= next_reconcile:
                    every = self.reconcile_every
                    next_reconcile = now + every if every > 0 else float("inf")
                    out = self.reconcile()
                    log.info(
                        "reconcile: %d sites checked, %d events published",
                        out.checked,
                        len(out.events),
                    )
                elif dirty:
                    self.flush()
            except Exception:
                log.exception("resource publishing failed; the sites stay dirty")
                with self._cond:  # do not spin on a failing store
                    self._cond.wait(max(self.debounce, 1.0))


def start_publisher(
    store: GraphStore, catalog: Catalog, settings: Settings, touches: Touches | None
) -> Publisher | None:
    """The running publisher `pboss serve` has (None when PBOSS_PUBLISH_RESOURCES is off)."""
    if not settings.publish_resources:
        return None
    every = settings.publish_reconcile_seconds
    if every is None:  # other processes write to Neo4j; the embedded store is ours alone
        every = RECONCILE_SECONDS if store.name == "neo4j" else 0.0
    publisher = Publisher(
        store,
        catalog,
        debounce=settings.publish_debounce_seconds,
        reconcile_every=every,
        thresholds=Thresholds.of(settings.publish_low_free_percent),
        touches=touches,
    )
    publisher.start()
    return publisher


def publish_touched(
    store: GraphStore, catalog: Catalog, touches: Touches, settings: Settings
) -> Outcome | None:
    """Publish, once per package, what a write run (`pboss load`) touched, through a publisher
    of its own; None when PBOSS_PUBLISH_RESOURCES is off."""
    if not settings.publish_resources:
        return None
    publisher = Publisher(
        store, catalog, thresholds=Thresholds.of(settings.publish_low_free_percent), touches=touches
    )
    return publisher.flush()
