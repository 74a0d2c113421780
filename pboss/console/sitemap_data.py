"""What the site map draws: every site the caller may see, its availability for one product by the
API's own rule (`pboss.inventory.business.qualify` over the store's site view, as the
`availability` query answers it), and the open incidents naming it (asked through GraphQL, so a
partner key counts only its own).

Qualifying every site of a `medium` network (~1,600 sites) is one site view each (tens of
seconds on a busy machine), so the answers are kept per product: shown as current for `REUSE_S`,
or while the store's event log has not moved up to `MAX_AGE`; older ones are shown at once (the
page says how old) while new ones are computed behind, on a few store threads. Only a page with
no answer for some site waits, at most `WAIT_S`. The cache holds facts about the network, not
about a caller: who may see which site and its availability is decided on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from pboss.console.ask import ask, console_state
from pboss.console.sitemap_svg import MapSite
from pboss.graphql.business.partners import PartnerNames
from pboss.graphql.context import Context
from pboss.graphql.permissions import Action
from pboss.inventory import business as biz
from pboss.inventory.model import Element
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore

#: Seconds answers are shown as current, whatever was written meanwhile (a live network writes
#: events all the time: its sweepers dispatch, hold and time out work).
REUSE_S = 60.0
#: Seconds after which answers are recomputed even when no event says the network changed
#: (a bulk load writes no events).
MAX_AGE = 600.0
#: Site views computed at once (each chunk on one store thread).
CHUNKS = 4
#: Seconds a page waits for the availability of every site before it answers with what it has
#: (the rest is still computed, in the background, and the page says so and reloads itself).
WAIT_S = 2.0
#: Open incidents read for the map, at most (pages of 200).
MAX_INCIDENTS = 5000
OPEN_STATES = ["OPEN", "CONFIRMED"]
OPEN_INCIDENTS = """
query MapIncidents($states: [IncidentState!], $after: String) {
  incidents(states: $states, first: 200, after: $after) {
    totalCount edges { node { id sites } } pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass(frozen=True)
class Qualified:
    """One site's answer for a product: the qualification result and the free capacity."""

    result: str
    free: int


@dataclass
class _Entry:
    """One product's answers: complete once `done`, else filling in (a computation running)."""

    seq: int
    at: float
    answers: dict[str, Qualified] = field(default_factory=dict)
    done: bool = False
    task: asyncio.Task[None] | None = None


@dataclass
class AvailabilityCache:
    """Availability of every site per product, reused while the network has not changed; at
    most one computation per product runs at a time."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    computing: dict[str, _Entry] = field(default_factory=dict)


@dataclass(frozen=True)
class Availabilities:
    """What the map knows of every site's availability now."""

    answers: dict[str, Qualified]
    complete: bool  # every site answered, and fresh
    age_s: float  # how old the answers are (0 while being computed)


def _cache(request: Request) -> AvailabilityCache:
    """The app's availability cache (made on first use)."""
    state = request.app.state
    cache = getattr(state, "pboss_sitemap_cache", None)
    if cache is None:
        cache = AvailabilityCache()
        state.pboss_sitemap_cache = cache
    return cache


def all_of(store: GraphStore, kind: str) -> list[Element]:
    """Every element of a kind in the store, by id (blocking: run it on the store threads)."""
    found: list[Element] = []
    after = None
    while True:
        page = store.find(FindQuery(kind=kind, after=after, limit=1000))
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        after = page.next_cursor


def _qualify_all(
    store: GraphStore,
    catalog: Any,
    product: str,
    names: dict[str, str],
    site_ids: Sequence[str],
    into: dict[str, Qualified],
) -> None:
    """Qualify each site for the product as the availability query does, filling `into`
    (blocking; run it on the store threads)."""
    for site_id in site_ids:
        q = biz.qualify(store.site_view(site_id), catalog, product, names)
        into[site_id] = Qualified(q.result, sum(o.free for o in q.options))


async def _partner_names(ctx: Context) -> dict[str, str]:
    """Partner id -> name, as the business view resolvers read them."""
    names: PartnerNames = ctx.state["partner_names"]
    return names.cached() if names.fresh else await ctx.call(names.refresh, ctx.store)


async def _compute(ctx: Context, entry: _Entry, product: str, ids: list[str]) -> None:
    """Fill `entry` with every site's answer, a few store threads at once."""
    names = await _partner_names(ctx)
    size = max(1, -(-len(ids) // CHUNKS))
    await asyncio.gather(
        *(
            ctx.call(
                _qualify_all,
                ctx.store,
                ctx.catalog,
                product,
                names,
                ids[i : i + size],
                entry.answers,
            )
            for i in range(0, len(ids), size)
        )
    )
    entry.done = True


async def availability(
    request: Request,
    ctx: Context,
    product: str,
    sites: Sequence[Element],
    wait_s: float | None = None,
) -> Availabilities:
    """Every site's qualification for `product`: answers younger than REUSE_S (or unchanged
    since, up to MAX_AGE) as they are; older ones at once while new ones are computed behind;
    without answers for every site, a computation is started (one per product) and awaited up
    to `wait_s`, after which the page gets what is known and says it is not final."""
    cache = _cache(request)
    seq = await ctx.call(ctx.store.last_event_seq)
    now = time.monotonic()
    wanted = {s.id for s in sites}
    entry = cache.entries.get(product)
    known = entry is not None and wanted <= entry.answers.keys()
    if entry is not None and known:
        age = now - entry.at
        if age < REUSE_S or (entry.seq == seq and age < MAX_AGE):
            return Availabilities(entry.answers, True, age)
    running = cache.computing.get(product)
    if running is None or running.task is None or running.task.done():
        running = _Entry(seq, now)
        ids = sorted(wanted | (entry.answers.keys() if entry else set()))
        running.task = asyncio.ensure_future(_compute(ctx, running, product, ids))
        cache.computing[product] = running

        def finished(task: asyncio.Task[None], done: _Entry = running) -> None:
            if not task.cancelled() and task.exception() is None:
                cache.entries[product] = done
            if cache.computing.get(product) is done:
                del cache.computing[product]

        running.task.add_done_callback(finished)
    task = running.task
    assert task is not None
    if entry is not None and known:  # every site has an answer, if older: show it, refresh behind
        return Availabilities(entry.answers, False, now - entry.at)
    with contextlib.suppress(TimeoutError):  # not yet: answer with what there is
        await asyncio.wait_for(asyncio.shield(task), WAIT_S if wait_s is None else wait_s)
    if task.done():
        task.result()  # a failed computation fails the page (the store's error, not a guess)
        return Availabilities(running.answers, wanted <= running.answers.keys(), 0.0)
    if entry is not None:  # the last complete answers while new ones are computed
        return Availabilities(entry.answers, False, now - entry.at)
    return Availabilities(dict(running.answers), False, 0.0)


async def open_incidents_by_site(request: Request) -> tuple[dict[str, list[str]], bool]:
    """Open incidents (open or confirmed) the caller may see, by site; and whether all were read."""
    by_site: dict[str, list[str]] = {}
    after: str | None = None
    read = 0
    while True:
        data = await ask(request, OPEN_INCIDENTS, {"states": OPEN_STATES, "after": after})
        page = data["incidents"]
        for edge in page["edges"]:
            for site in edge["node"]["sites"]:
                by_site.setdefault(site, []).append(edge["node"]["id"])
        read += len(page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return by_site, True
        if read >= MAX_INCIDENTS:
            return by_site, False
        after = page["pageInfo"]["endCursor"]


@dataclass(frozen=True)
class MapData:
    """The map's sites (located or not) and what the page says about them."""

    sites: list[MapSite]
    shows_availability: bool
    incidents_complete: bool
    availability_final: bool  # every site's answer is there and current
    availability_age_s: float  # how old the answers shown are
    regions: dict[str, str]  # region id -> name, of every region with a site the caller sees


class UnknownRegion(ValueError):
    """A region filter naming no region with a site this caller may see."""


async def map_data(
    request: Request, ctx: Context, product: str, region: str | None = None
) -> MapData:
    """Every site the caller may see (in `region`, when given) with its availability for
    `product` and its open incidents."""
    every = [s for s in await ctx.call(all_of, ctx.store, "Site") if ctx.sees(s)]
    named = {r.id: r.name or r.id for r in await ctx.call(all_of, ctx.store, "Region")}
    present = sorted({str(r) for s in every if (r := getattr(s, "region", None))})
    regions = {r: named.get(r, r) for r in present}
    if region is not None and region not in regions:
        known = ", ".join(regions) or "none"
        raise UnknownRegion(f"Unknown region {region!r}: the sites you may see are in {known}.")
    visible = [s for s in every if region is None or getattr(s, "region", None) == region]
    shows = ctx.allows(Action.BUSINESS_VIEW)
    known = await availability(request, ctx, product, visible) if shows else None
    answers = known.answers if known else {}
    incidents, complete = await open_incidents_by_site(request)
    sites = []
    for s in visible:
        q = answers.get(s.id)
        sites.append(
            MapSite(
                id=s.id,
                name=s.name or s.id,
                site_type=str(getattr(s, "site_type", "") or "site"),
                lat=getattr(s, "lat", None),
                lon=getattr(s, "lon", None),
                availability=q.result if q else ("pending" if shows else "hidden"),
                free=q.free if q else None,
                incidents=len(incidents.get(s.id, ())),
                region=getattr(s, "region", None),
            )
        )
    final = known is None or known.complete
    age = known.age_s if known else 0.0
    return MapData(sites, shows, complete, final, age, regions)


def catalog_products(request: Request) -> list[Any]:
    """The catalog's products (the same list the `products` query gives)."""
    return list(console_state(request)["catalog"].products.values())
