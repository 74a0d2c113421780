"""Resource publishing to CRM (资源发布): `BusinessResourceChangedEvent`s in the store's event log.

What was last published about a package is the log itself: its newest event of this type
(`GraphStore.latest_events`), never a second copy. Publishing a set of sites is two passes:

1. **check** (reads only): package each site (`business.package_site` on one `site_view`, the
   answer the `businessResources` query gives), read the latest published figures of every package
   the site has or may have had (each packaging rule x our own network and every partner), and
   keep the sites where `figures.changes` finds a reason to publish. Most sites stop here.
2. **publish**, per batch of such sites, in one write transaction: lock the sites' nodes (sorted,
   so publishers never wait on each other in a cycle), then read the site views and the latest
   events again and emit an event per package that still differs. Two publishers (two processes)
   that want to publish the same change serialise on the site's lock; the second re-reads the log
   after the first committed, sees its event and publishes nothing.

The rare race: a store whose reads may lag a commit (a Neo4j cluster read from a follower) can
let the second publisher miss the first's event and publish the same figures again. That is
harmless: an event carries the whole figures, so a receiver that keeps the newest by package id
(or dedupes on equal figures) ends in the same state. An event is never lost: a change that
commits is seen by the next check of its site, which a trigger or the periodic reconcile
(`reconcile`) always runs, and a publish that fails leaves the log as it was, so the next check
finds the same difference.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pboss.crm.figures import (
    ACTIVE,
    Thresholds,
    changes,
    figures_of,
    previous_of,
    removed_figures,
)
from pboss.hub.catalog import BUSINESS_RESOURCE_CHANGED
from pboss.inventory.business import Package, package_site
from pboss.inventory.catalog import Catalog
from pboss.inventory.errors import NotFound
from pboss.inventory.events import NewEvent, StoredEvent
from pboss.inventory.model import SELF, from_stored
from pboss.inventory.results import FindQuery
from pboss.inventory.sellable import rule_for
from pboss.inventory.store import GraphStore
from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import GraphTx

log = logging.getLogger(__name__)

EVENT_TYPE = BUSINESS_RESOURCE_CHANGED
ACTOR = "pboss-publisher"
#: Sites locked and published in one write transaction: few, since the transaction re-reads
#: their views while it holds the locks (on the embedded store, its one write lock).
PUBLISH_BATCH = 10
#: Sites checked together (one `latest_events` call for all their packages).
CHECK_BATCH = 200
#: Package ids asked of `latest_events` at once.
LATEST_BATCH = 2000

Clock = Callable[[], datetime]
#: Told, for each site checked, the packages found there (the publisher indexes what they hang
#: off, so a later change to an OLT or a PON port finds the sites it affects).
Observer = Callable[[str, Sequence[Package]], None]


@dataclass
class Outcome:
    """What one publishing run did: sites checked, sites published, the events written."""

    checked: int = 0
    published_sites: int = 0
    events: list[NewEvent] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        """Add another run's counts and events to these."""
        self.checked += other.checked
        self.published_sites += other.published_sites
        self.events += other.events


@dataclass(frozen=True)
class Partners:
    """The partner ids (package owners besides our own network) and their display names."""

    names: dict[str, str]

    @property
    def owners(self) -> list[str]:
        """Every possible package owner: our own network first, then each partner."""
        return [SELF, *sorted(self.names)]


def read_partners(store: GraphStore) -> Partners:
    """Every partner's id and name (partners are few: a page or two)."""
    names: dict[str, str] = {}
    after = None
    while True:
        page = store.find(FindQuery(kind="Partner", after=after, limit=1000))
        names.update({p.id: p.name or p.id for p in page.items})
        if page.next_cursor is None:
            return Partners(names)
        after = page.next_cursor


def package_ids(catalog: Catalog, site_id: str, owners: Iterable[str]) -> list[str]:
    """Every package id a site may have (`business.package_site`'s naming)."""
    return [
        f"{rule.id}@{site_id}" + ("" if owner == SELF else f"/{owner}")
        for rule in catalog.packages
        for owner in owners
    ]


def event_of(
    figures: dict[str, Any], last: dict[str, Any] | None, reasons: list[str], at: datetime
) -> NewEvent:
    """The event publishing these figures (TMF-style: eventId, eventTime, eventType, event)."""
    eid = str(uuid.uuid4())
    at = utc(at)
    body = {
        "eventId": eid,
        "eventTime": at.isoformat(),
        "eventType": EVENT_TYPE,
        "event": {
            "businessResource": figures,
            "previous": previous_of(last),
            "reasons": reasons,
        },
    }
    return NewEvent(
        id=eid,
        type=EVENT_TYPE,
        at=at,
        subject=figures["id"],
        body=body,
        sites=[figures["site"]["id"]],
        products=list(figures["products"]),
        partners=[figures["owner"]] if figures["isPartner"] else [],
    )


def published(event: StoredEvent) -> dict[str, Any]:
    """The figures an event published."""
    figures: dict[str, Any] = event.body["event"]["businessResource"]
    return figures


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Publishing:
    """Compares packages with the log and publishes the differences, on one store."""

    def __init__(
        self,
        store: GraphStore,
        catalog: Catalog,
        *,
        thresholds: Thresholds | None = None,
        clock: Clock | None = None,
        observer: Observer | None = None,
    ):
        self.store = store
        self.catalog = catalog
        self.thresholds = thresholds or Thresholds()
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.observer = observer

    # ---- reading ---------------------------------------------------------------------------------

    def packages_at(self, site_id: str, partners: Partners) -> list[Package]:
        """The packages at a site now (none when the site is gone)."""
        try:
            view = self.store.site_view(site_id)
        except NotFound:
            packages: list[Package] = []
        else:
            packages = package_site(view, self.catalog, partners.names)
        if self.observer is not None:
            self.observer(site_id, packages)
        return packages

    def latest(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The figures last published about each of these packages that has an event."""
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids, LATEST_BATCH):
            found = self.store.latest_events(EVENT_TYPE, list(chunk))
            out.update({pid: published(e) for pid, e in found.items()})
        return out

    def _due(
        self, site_id: str, partners: Partners, latest: dict[str, dict[str, Any]]
    ) -> list[tuple[dict[str, Any], dict[str, Any] | None, list[str]]]:
        """(figures now, figures last published, reasons) of each package at the site to
        publish; `latest` must hold every package id the site may have."""
        now = {p.id: figures_of(p) for p in self.packages_at(site_id, partners)}
        candidates = package_ids(self.catalog, site_id, partners.owners)
        known = set(candidates)
        strays = [pid for pid in now if pid not in known]  # an owner not read yet
        if strays:
            latest = {**latest, **self.latest(strays)}
        out = []
        for pid in [*candidates, *strays]:
            last, cur = latest.get(pid), now.get(pid)
            reasons = changes(last, cur, self.thresholds)
            if reasons:
                figures = cur if cur is not None else removed_figures(last or {})
                out.append((figures, last, reasons))
        return out

    # ---- publishing ------------------------------------------------------------------------------

    def publish(self, sites: Iterable[str], partners: Partners | None = None) -> Outcome:
        """Check these sites and publish what changed (see the module doc); each package at
        most once."""
        partners = partners or read_partners(self.store)
        wanted = sorted(set(sites))
        outcome = Outcome()
        for chunk in _chunks(wanted, CHECK_BATCH):
            outcome.add(self._check_and_publish(chunk, partners))
        return outcome

    def _check_and_publish(
        self,
        sites: Sequence[str],
        partners: Partners,
        latest: dict[str, dict[str, Any]] | None = None,
    ) -> Outcome:
        ids = [pid for s in sites for pid in package_ids(self.catalog, s, partners.owners)]
        if latest is None:
            latest = self.latest(ids)
        due = [s for s in sites if self._due(s, partners, latest)]
        outcome = Outcome(checked=len(sites))
        for chunk in _chunks(due, PUBLISH_BATCH):
            events = self._publish_locked(chunk, partners)
            outcome.events += events
            outcome.published_sites += len({e.sites[0] for e in events})
        return outcome

    def _publish_locked(self, sites: Sequence[str], partners: Partners) -> list[NewEvent]:
        """Lock the sites, re-read, emit what still differs: one write transaction."""

        def work(tx: GraphTx) -> list[NewEvent]:
            tx.lock(sites)
            ids = [pid for s in sites for pid in package_ids(self.catalog, s, partners.owners)]
            latest = self.latest(ids)
            at = self.clock()
            events = [
                event_of(figures, last, reasons, at)
                for s in sites
                for figures, last, reasons in self._due(s, partners, latest)
            ]
            for event in events:
                tx.emit(event)
            return events

        return self.store.transact(work, actor=ACTOR, reason="publish business resources")

    # ---- the full reconcile ----------------------------------------------------------------------

    def anchor_sites(self) -> set[str]:
        """Sites holding a resource some packaging rule packages (where packages can be)."""
        kinds = sorted({r.anchor_kind for r in self.catalog.packages})
        sites: set[str] = set()
        for kind in kinds:
            for props in self.store.scan_nodes(kind):
                site = props.get("site")
                if site and site not in sites and rule_for(self.catalog, from_stored(props)):
                    sites.add(site)
        return sites

    def reconcile(self, stopping: Callable[[], bool] = lambda: False) -> Outcome:
        """Compare every package with what was last published and publish the differences:
        catches what no trigger of this process saw (other processes' writes, a crash between a
        change and its flush). Sites without an anchor resource are viewed only when the log
        says they had a package (to publish its removal). `stopping` is asked between batches
        of sites: a process shutting down does not finish a long reconcile (the next one will)."""
        partners = read_partners(self.store)
        anchored = self.anchor_sites()
        site_ids = sorted({props["id"] for props in self.store.scan_nodes("Site")} | anchored)
        outcome = Outcome()
        for chunk in _chunks(site_ids, CHECK_BATCH):
            if stopping():
                break
            ids = [pid for s in chunk for pid in package_ids(self.catalog, s, partners.owners)]
            latest = self.latest(ids)
            live = {f["site"]["id"] for f in latest.values() if f.get("state") == ACTIVE}
            wanted = [s for s in chunk if s in anchored or s in live]
            part = self._check_and_publish(wanted, partners, latest)
            part.checked = len(chunk)
            outcome.add(part)
        return outcome
