"""The business view: network resources at a site packaged for sales, and what can be sold there.

Pure functions over a `SiteView` and the catalog (no store, no GraphQL), so the API, provisioning
and CRM feeds share one answer. Packaging rules are catalog data (`[[package]]`); which rule a
resource belongs to, hence which splitter outputs are sold, is `sellable.rule_for`, the rule FTTH
path computation applies too, so what CRM is shown free is what reservations can take. This
module only knows how to count free units for the anchor kinds a SiteView carries: Splitter (free
outputs under a healthy chain within the PON split budget), PartnerAccess (a pool: total - used -
reserved) and NE (free ports). Availability answers in TMF645 terms: qualified, alternate or
unqualified.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pboss.inventory.catalog import Catalog, PackageRule, ProductDef
from pboss.inventory.lifecycle import DEGRADED, DOWN, Status, health_of
from pboss.inventory.model import SELF, Element
from pboss.inventory.results import SiteView, SplitterView
from pboss.inventory.sellable import rule_for

#: Statuses that make an element unable to carry a new service (down, at risk, or not yet built).
BLOCKING = frozenset(DOWN | DEGRADED | {Status.PLANNED})
#: Anchor kinds a SiteView carries, hence the kinds a packaging rule may anchor on.
ANCHOR_KINDS = ("Splitter", "PartnerAccess", "NE")

Result = Literal["qualified", "alternate", "unqualified"]


class UnknownProduct(ValueError):
    """A product id the catalog does not define."""

    def __init__(self, product_id: str, known: Sequence[str]):
        self.product_id = product_id
        super().__init__(f"unknown product {product_id!r}; known: {', '.join(sorted(known))}")


@dataclass(frozen=True)
class Component:
    """One anchor resource of a package: its units, their use, and the health above it."""

    anchor: Element
    total: int
    used: int
    free: int
    free_units: tuple[str, ...]
    health: str
    impaired_by: tuple[str, ...]
    blockers: tuple[str, ...]
    chain: tuple[Element, ...] = ()
    pon_port: str | None = None
    olt: str | None = None
    pon_load: int | None = None
    pon_budget: int | None = None

    @property
    def sellable(self) -> int:
        """Free units that can take a new service now (0 when something blocks the component)."""
        return 0 if self.blockers else self.free


@dataclass(frozen=True)
class Package:
    """A business resource: one rule's anchors at one site with one owner, and what it sells."""

    id: str
    rule: PackageRule
    name: str
    site: Element
    owner: str
    sells: tuple[ProductDef, ...]
    components: tuple[Component, ...]
    capacity: int
    used: int
    free: int

    @property
    def health(self) -> str:
        """The worst health among its components (ok when it has none)."""
        order = {"ok": 0, "degraded": 1, "down": 2}
        return max((c.health for c in self.components), key=order.__getitem__, default="ok")

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the package cannot sell now (empty when it can)."""
        if self.free > 0:
            return ()
        found = [r for c in self.components for r in c.blockers]
        if not found:
            found = [f"{self.name}: no free capacity"]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Option:
    """One way to deliver a product at a site: which network, how much is free, how soon."""

    product: ProductDef
    package_id: str
    network: str
    free: int
    lead_time_hours: int

    @property
    def self_built(self) -> bool:
        """True when our own network delivers it."""
        return self.network == SELF


@dataclass(frozen=True)
class Qualification:
    """A TMF645-style answer for one site and, optionally, one requested product."""

    site: Element
    product: ProductDef | None
    result: Result
    options: tuple[Option, ...]
    reasons: tuple[str, ...]
    #: when unqualified: what of another family (service type) can be sold here instead
    other_families: tuple[Option, ...] = ()


def _status_blockers(elements: Sequence[Element], label: str) -> list[str]:
    return [f"{label}: {e.kind} {e.id} is {e.status}" for e in elements if e.status in BLOCKING]


def _splitter_component(sv: SplitterView) -> Component:
    spl = sv.splitter
    chain = (spl, *sv.upstream)
    blockers = _status_blockers(chain, spl.id)
    if sv.pon_port is None:
        blockers.append(f"{spl.id}: not connected to a PON port")
    elif sv.pon_load >= sv.pon_budget:
        blockers.append(
            f"{spl.id}: PON port {sv.pon_port} is at its split budget "
            f"({sv.pon_load} of {sv.pon_budget})"
        )
    if not sv.free_ports:
        blockers.append(f"{spl.id}: no free port")
    return Component(
        anchor=spl,
        total=int(getattr(spl, "ratio", len(sv.free_ports) + sv.busy_ports)),
        used=sv.busy_ports,
        free=len(sv.free_ports),
        free_units=tuple(sv.free_ports),
        health=health_of([e.status for e in chain]),
        impaired_by=tuple(sorted(e.id for e in chain if e.status in DOWN | DEGRADED)),
        blockers=tuple(blockers),
        chain=tuple(sv.upstream),
        pon_port=sv.pon_port,
        olt=sv.olt,
        pon_load=sv.pon_load,
        pon_budget=sv.pon_budget,
    )


def _pool_component(pool: Element) -> Component:
    total = int(getattr(pool, "total", 0))
    taken = int(getattr(pool, "used", 0)) + int(getattr(pool, "reserved", 0))
    free = max(total - taken, 0)
    blockers = _status_blockers([pool], pool.id)
    if free == 0:
        blockers.append(f"{pool.id}: partner pool exhausted ({taken} of {total} taken)")
    return Component(
        anchor=pool,
        total=total,
        used=taken,
        free=free,
        free_units=(),
        health=health_of([pool.status]),
        impaired_by=tuple(sorted({pool.id} if pool.status in DOWN | DEGRADED else ())),
        blockers=tuple(blockers),
    )


def _ne_component(ne: Element, view: SiteView) -> Component:
    ports = [p for p in view.ports if p.ne == ne.id]
    free = [p.port.id for p in ports if not p.busy and p.port.status == Status.AVAILABLE]
    blockers = _status_blockers([ne], ne.id)
    if not free:
        blockers.append(f"{ne.id}: no free port")
    return Component(
        anchor=ne,
        total=len(ports),
        used=sum(1 for p in ports if p.busy),
        free=len(free),
        free_units=tuple(free),
        health=health_of([ne.status]),
        impaired_by=tuple(sorted({ne.id} if ne.status in DOWN | DEGRADED else ())),
        blockers=tuple(blockers),
    )


def _components(rule: PackageRule, view: SiteView, catalog: Catalog) -> list[Component]:
    """The rule's anchors at the site: those whose packaging rule (`sellable.rule_for`, the one
    path computation also asks) is this one, so each resource is counted once."""

    def ours(el: Element) -> bool:
        return rule_for(catalog, el) is rule

    if rule.anchor_kind == "Splitter":
        return [_splitter_component(sv) for sv in view.splitters if ours(sv.splitter)]
    if rule.anchor_kind == "PartnerAccess":
        return [_pool_component(p) for p in view.partner_access if ours(p)]
    if rule.anchor_kind == "NE":
        return [_ne_component(ne, view) for ne in view.nes if ours(ne)]
    return []


def _sellable(components: Sequence[Component]) -> int:
    """Free units that can be sold, capping splitters under one PON port by its remaining budget."""
    by_pon: dict[str, int] = defaultdict(int)
    budget_left: dict[str, int] = {}
    total = 0
    for c in components:
        if c.pon_port is None:
            total += c.sellable
            continue
        by_pon[c.pon_port] += c.sellable
        budget_left[c.pon_port] = max((c.pon_budget or 0) - (c.pon_load or 0), 0)
    return total + sum(min(n, budget_left[p]) for p, n in by_pon.items())


def unsupported_rules(catalog: Catalog) -> list[str]:
    """Ids of packaging rules anchored on a kind no SiteView carries (they package nothing)."""
    return [r.id for r in catalog.packages if r.anchor_kind not in ANCHOR_KINDS]


def package_site(
    view: SiteView, catalog: Catalog, partner_names: Mapping[str, str] | None = None
) -> list[Package]:
    """Package the network resources at a site into business resources, by the catalog's rules."""
    names = partner_names or {}
    site = view.site
    out: list[Package] = []
    for rule in catalog.packages:
        by_owner: dict[str, list[Component]] = defaultdict(list)
        for comp in _components(rule, view, catalog):
            by_owner[comp.anchor.owner].append(comp)
        for owner in sorted(by_owner, key=lambda o: (o != SELF, o)):
            comps = by_owner[owner]
            suffix = "" if owner == SELF else f"/{owner}"
            out.append(
                Package(
                    id=f"{rule.id}@{site.id}{suffix}",
                    rule=rule,
                    name=rule.name.format(site=site.name or site.id, owner=names.get(owner, owner)),
                    site=site,
                    owner=owner,
                    sells=tuple(catalog.products[p] for p in rule.sells),
                    components=tuple(comps),
                    capacity=sum(c.total for c in comps),
                    used=sum(c.used for c in comps),
                    free=_sellable(comps),
                )
            )
    return out


def _options(packages: Sequence[Package], catalog: Catalog) -> list[Option]:
    rank = {pid: i for i, pid in enumerate(catalog.products)}
    opts = [
        Option(p, pkg.id, pkg.owner, pkg.free, p.lead_time_hours)
        for pkg in packages
        if pkg.free > 0
        for p in pkg.sells
    ]
    return sorted(opts, key=lambda o: (not o.self_built, o.lead_time_hours, rank[o.product.id]))


def _why_not(
    product: ProductDef,
    packages: Sequence[Package],
    site: Element,
    names: Mapping[str, str],
) -> list[str]:
    selling = [pkg for pkg in packages if product in pkg.sells and pkg.owner == SELF]
    if selling:
        return [r for pkg in selling for r in pkg.reasons]
    where = f"{site.name} ({site.id})" if site.name else site.id
    partners = sorted({pkg.owner for pkg in packages if product in pkg.sells and pkg.free > 0})
    if partners:
        by = ", ".join(names.get(p, p) for p in partners)
        return [f"{product.id} is delivered at {where} only through a partner network ({by})"]
    return [f"our own network at {where} has nothing that delivers {product.id}"]


def _other_families(options: Sequence[Option]) -> list[str]:
    """One reason per other product family sellable here, naming it and its products."""
    by_family: dict[str, list[str]] = defaultdict(list)
    for o in options:
        shown = f"{o.product.id} ({o.product.name})"
        if shown not in by_family[o.product.service_type]:
            by_family[o.product.service_type].append(shown)
    return [
        f"sellable here instead: the {family.replace('_', ' ')} family: {', '.join(products)}"
        for family, products in by_family.items()
    ]


def qualify(
    view: SiteView,
    catalog: Catalog,
    product_id: str | None = None,
    partner_names: Mapping[str, str] | None = None,
) -> Qualification:
    """Can this site be served (with this product)? Qualified when our own network can deliver it;
    alternate when only a partner or another product of the same service type can; else
    unqualified, with the reasons."""
    product = None
    if product_id is not None:
        product = catalog.products.get(product_id)
        if product is None:
            raise UnknownProduct(product_id, list(catalog.products))
    packages = package_site(view, catalog, partner_names)
    options = _options(packages, catalog)
    site = view.site
    if product is None:
        if any(o.self_built for o in options):
            return Qualification(site, None, "qualified", tuple(options), ())
        result: Result = "alternate" if options else "unqualified"
        # alternate: why our own network cannot serve; unqualified: why nothing can
        shown = [p for p in packages if p.owner == SELF or result == "unqualified"]
        reasons = [r for pkg in shown for r in pkg.reasons]
        if not any(pkg.owner == SELF for pkg in packages):
            reasons.append(f"our own network has no access resource at {site.name or site.id}")
        return Qualification(site, None, result, tuple(options), tuple(dict.fromkeys(reasons)))
    exact = [o for o in options if o.product.id == product.id]
    if any(o.self_built for o in exact):
        return Qualification(site, product, "qualified", tuple(exact), ())
    reasons = _why_not(product, packages, site, partner_names or {})
    others = [
        o
        for o in options
        if o.product.id != product.id and o.product.service_type == product.service_type
    ]
    alternates = exact + others
    if not alternates:
        related = [
            r
            for pkg in packages
            if pkg.owner != SELF or product not in pkg.sells
            if any(p.service_type == product.service_type for p in pkg.sells)
            for r in pkg.reasons
        ]
        reasons += related or [f"no partner or alternative product can serve {product.id} here"]
        instead = [o for o in options if o.product.service_type != product.service_type]
        reasons += _other_families(instead)
        return Qualification(
            site, product, "unqualified", (), tuple(dict.fromkeys(reasons)), tuple(instead)
        )
    why = tuple(dict.fromkeys(reasons))
    return Qualification(site, product, "alternate", tuple(alternates), why)
