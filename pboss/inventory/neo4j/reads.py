"""The reads of `Neo4jStore`: each protocol read is one named query (one round trip) through the
client, and the Python that shapes its rows into the protocol's results."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pboss.inventory.dependants import Dependant, nearest
from pboss.inventory.errors import NotFound
from pboss.inventory.history import from_row
from pboss.inventory.lifecycle import DEGRADED, DOWN, health_of
from pboss.inventory.model import Edge, Element, from_props, from_stored
from pboss.inventory.neo4j.client import Neo4jClient
from pboss.inventory.neo4j.projection import _Projection, _rider_keys
from pboss.inventory.neo4j.queries import lookups
from pboss.inventory.neo4j.queries.dependants import DEPENDANTS
from pboss.inventory.neo4j.queries.fragments import IMPAIRING
from pboss.inventory.neo4j.queries.riders import RIDERS
from pboss.inventory.neo4j.queries.site_view import SITE_VIEW
from pboss.inventory.neo4j.queries.trace import TRACE
from pboss.inventory.results import (
    ChangeRecord,
    Closure,
    FindQuery,
    Page,
    PortView,
    RiderFields,
    Riders,
    RiderTotals,
    SiteView,
    SlotUse,
    SplitterView,
    Trace,
    TransportLink,
    new_riders,
)
from pboss.inventory.store import Direction
from pboss.inventory.tracing import build_trace


def native(value: Any) -> Any:
    """A driver value (e.g. a Neo4j DateTime) as a Python value."""
    to_native = getattr(value, "to_native", None)
    return to_native() if to_native else value


def element_of(props: dict[str, Any]) -> Element:
    """A typed element from stored properties (internal `_` properties such as locks dropped)."""
    return from_props({k: v for k, v in props.items() if not k.startswith("_")})


def change_of(props: dict[str, Any]) -> ChangeRecord:
    """A history record from a stored `Change` node."""
    return from_row(props, native(props["at"]))


def impairments_of(closure: list[list[Any]]) -> list[str]:
    """Ids of the (id, depth, status) rows whose status impairs what depends on them."""
    return sorted(i for i, _, status in closure if status in DOWN | DEGRADED)


class Neo4jReads:
    """The GraphStore reads on Neo4j (mixed into `Neo4jStore`, which sets `client`)."""

    client: Neo4jClient

    def get(self, element_id: str) -> Element | None:
        rows = self.client.read(lookups.GET, id=element_id)
        return element_of(rows[0]["p"]) if rows else None

    def get_many(self, element_ids: Sequence[str]) -> dict[str, Element]:
        rows = self.client.read(lookups.GET_MANY, ids=list(element_ids))
        return {r["p"]["id"]: element_of(r["p"]) for r in rows}

    def find(self, query: FindQuery) -> Page[Element]:
        params: dict[str, Any] = {
            f: getattr(query, f) for f in lookups.FIND_FIELDS if getattr(query, f) is not None
        }
        if query.text:
            params["text"] = query.text.lower()
        if query.phone:
            params["phone"] = query.phone
        cypher = lookups.find(
            tuple(f for f in lookups.FIND_FIELDS if f in params),
            bool(query.text),
            bool(query.phone),
        )
        row = self.client.read(cypher, after=query.after, limit=query.limit + 1, **params)[0]
        page = row["page"]
        more = len(page) > query.limit
        items = [element_of(p) for p in page[: query.limit]]
        return Page(
            items=items, total=row["total"], next_cursor=items[-1].id if more and items else None
        )

    def neighbours(
        self, element_id: str, direction: Direction = "out", types: Sequence[str] | None = None
    ) -> list[tuple[Edge, Element]]:
        rows = self.client.read(
            lookups.NEIGHBOURS[direction], id=element_id, types=list(types) if types else None
        )
        if not rows:
            raise NotFound(element_id)
        out = []
        for etype, props, other in rows[0]["out"]:
            src, dst = (
                (element_id, other["id"]) if direction == "out" else (other["id"], element_id)
            )
            out.append((Edge.from_props(etype, src, dst, props), element_of(other)))
        out.sort(key=lambda pair: (pair[0].type, pair[0].seq or 0, pair[1].id))
        return out

    def neighbours_many(
        self,
        element_ids: Sequence[str],
        direction: Direction = "out",
        types: Sequence[str] | None = None,
    ) -> dict[str, list[tuple[Edge, Element]]]:
        ids = list(dict.fromkeys(element_ids))
        rows = self.client.read(
            lookups.NEIGHBOURS_MANY[direction], ids=ids, types=list(types) if types else None
        )
        found: dict[str, list[tuple[Edge, Element]]] = {}
        for row in rows:
            element_id, out = row["id"], []
            for etype, props, other in row["out"]:
                src, dst = (
                    (element_id, other["id"]) if direction == "out" else (other["id"], element_id)
                )
                out.append((Edge.from_props(etype, src, dst, props), element_of(other)))
            out.sort(key=lambda pair: (pair[0].type, pair[0].seq or 0, pair[1].id))
            found[element_id] = out
        return found

    def dependants(self, element_ids: Sequence[str]) -> list[Dependant]:
        """What depends on these resources, as light rows, in one query (`queries.dependants`)."""
        ids = list(dict.fromkeys(element_ids))
        rows = self.client.read(DEPENDANTS, ids=ids)
        return nearest(rows[0]["rows"] if rows else [], ids)

    def trace(self, element_id: str) -> Trace:
        """The trace of a circuit or service from one query that reads only what it shows (see
        `queries.trace`); the same answer `build_trace` gives of the whole closure."""
        rows = self.client.fetch(TRACE, id=element_id)
        if not rows:
            raise NotFound(element_id)
        closure, shown = rows[0]["closure"], rows[0]["shown"]
        depth = {i: d for i, d, _ in closure}
        nodes: dict[str, Element] = {}
        edges = []
        used: dict[str, int] = {}
        for props, out, in_use in shown:
            el = from_stored(props)
            nodes[el.id] = el
            edges += [(t, el.id, d, s, sl) for t, d, s, sl in out]
            if in_use is not None:
                used[el.id] = in_use
        trace = build_trace(
            Closure(root=element_id, nodes=nodes, depth=depth, edges=edges, used=used)
        )
        # health and impairments are of the whole closure, of which only these were read whole
        trace.health = health_of([s for _, _, s in closure if s in DOWN | DEGRADED])
        trace.impaired_by = impairments_of(closure)
        return trace

    def riders(
        self,
        element_ids: Sequence[str],
        *,
        first: int = 50,
        after: str | None = None,
        fields: RiderFields | None = None,
    ) -> Riders:
        keys = {}
        if fields is not None:
            keys = {
                "service_keys": _rider_keys("Service", fields.service),
                "customer_keys": _rider_keys("Customer", fields.customer),
            }
        row = self.client.fetch(
            RIDERS[len(element_ids) == 1, fields is not None],
            ids=list(element_ids),
            first=first,
            after=after,
            impairing=IMPAIRING,
            **keys,
        )[0]
        if row["missing"]:
            raise NotFound(row["missing"][0])
        by_type: dict[str, int] = defaultdict(int)
        by_tier: dict[str, int] = defaultdict(int)
        for ctype, tier, count in row["kinds"]:
            by_type[ctype] += count
            by_tier[tier] += count
        found = row["items"]
        if fields is None:
            services = [from_stored(s) for s, _, _ in found]
            customers = [from_stored(c) if c else None for _, c, _ in found]
        else:
            services = _Projection("Service", keys["service_keys"]).many([s for s, _, _ in found])
            customers = _Projection("Customer", keys["customer_keys"]).many(
                [c or None for _, c, _ in found]
            )
        items = new_riders(
            (svc, cust, health_of([s for _, s in bads]), sorted(b for b, _ in bads))
            if bads
            else (svc, cust, "ok", [])
            for svc, cust, (_, _, bads) in zip(services, customers, found, strict=True)
        )
        totals = RiderTotals(
            services=row["services"],
            customers=row["customers"] or 0,
            by_product=dict(sorted((k, n) for k, n in row["by_product"])),
            by_customer_type=dict(sorted(by_type.items())),
            by_sla_tier=dict(sorted(by_tier.items())),
        )
        return Riders(
            resource_ids=list(element_ids),
            totals=totals,
            items=items,
            next_cursor=items[-1].service.id if row["more"] and items else None,
        )

    def history(
        self, element_id: str | None = None, *, actor: str | None = None, limit: int = 100
    ) -> list[ChangeRecord]:
        rows = self.client.read(lookups.HISTORY, id=element_id, actor=actor, limit=limit)
        return [change_of(r["c"]) for r in rows]

    def history_many(
        self, element_ids: Sequence[str], *, limit: int = 100
    ) -> dict[str, list[ChangeRecord]]:
        ids = list(dict.fromkeys(element_ids))
        rows = self.client.read(lookups.HISTORY_MANY, ids=ids, limit=limit)
        found = {r["id"]: [change_of(c) for c in r["changes"]] for r in rows}
        return {i: found.get(i, []) for i in ids}

    def site_view(self, site_id: str) -> SiteView:
        rows = self.client.fetch(SITE_VIEW, site=site_id)
        if not rows or rows[0]["site"].get("kind") != "Site":
            raise NotFound(site_id, "Site")
        row = rows[0]
        loads = dict(row["loads"])
        # splitters under one PON port share their chain above it: build each element once
        seen: dict[str, Element] = {}

        def upstream_of(chain: list[dict[str, Any]]) -> list[Element]:
            return [seen.get(p["id"]) or seen.setdefault(p["id"], from_stored(p)) for p in chain]

        splitters = []
        for spl, ports, chain, pon, budget in row["splitters"]:
            upstream = upstream_of(chain)
            splitters.append(
                SplitterView.model_construct(
                    splitter=from_stored(spl),
                    free_ports=[p for p, st, busy in ports if p and not busy and st == "available"],
                    busy_ports=sum(1 for p, _, busy in ports if p and busy),
                    upstream=upstream,
                    pon_port=pon,
                    olt=next((e.id for e in upstream if e.kind == "OLT"), None),
                    pon_load=loads.get(pon, 0) if pon else 0,
                    pon_budget=budget or 0,
                )
            )
        return SiteView.model_construct(
            site=from_stored(row["site"]),
            splitters=splitters,
            partner_access=[from_stored(p) for p in row["pools"]],
            nes=[from_stored(p) for p in row["nes"]],
            ports=[
                PortView.model_construct(port=from_stored(p), ne=ne, busy=busy)
                for p, ne, busy in row["ports"]
            ],
        )

    def transport_links(self) -> list[TransportLink]:
        rows = self.client.read(lookups.TRANSPORT_LINKS)
        order = {"TrunkSection": 0, "PartnerLink": 1}
        out = []
        for row in rows:
            ends = sorted(row["ends"])
            out.append(
                TransportLink(
                    link=element_of(row["link"]),
                    a_ne=ends[0] if ends else None,
                    z_ne=ends[1] if len(ends) > 1 else None,
                    used_slots=sorted(s for slots in row["held"] if slots for s in slots),
                )
            )
        out.sort(key=lambda t: (order[t.link.kind], t.link.id))
        return out

    def slot_use(self, element_ids: Sequence[str]) -> dict[str, SlotUse]:
        ids = list(dict.fromkeys(element_ids))
        rows = self.client.read(lookups.SLOT_USE, ids=ids) if ids else []
        out = {}
        for row in rows:
            use: dict[str, list[int]] = {"ROUTED_OVER": [], "HOLDS": []}
            for edge_type, slots in row["held"]:
                use[edge_type] += slots or []
            out[row["id"]] = SlotUse(
                capacity=int(row["capacity"] or 0),
                routed=sorted(use["ROUTED_OVER"]),
                held=sorted(use["HOLDS"]),
            )
        return out

    def counts(self) -> dict[str, int]:
        row = self.client.read(lookups.COUNTS)[0]
        out = {k: c for k, c in sorted(row["kinds"])}
        out.update({f"edge:{t}": c for t, c in sorted(row["types"])})
        return out


__all__ = ["Neo4jReads", "change_of", "element_of", "native"]
