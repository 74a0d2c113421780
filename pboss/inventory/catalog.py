"""The resource catalog: specifications with typed characteristics, products and packaging rules.

It is data (`catalog.toml`, shipped with the package, or a file named by PBOSS_CATALOG), so a new
equipment type or product is configuration, not code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pboss.inventory.errors import Issue
from pboss.inventory.model import KINDS, Element

DEFAULT_CATALOG = Path(__file__).with_name("catalog.toml")
_TYPES: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "str": str,
    "float": (int, float),
    "bool": bool,
}


@dataclass(frozen=True)
class Characteristic:
    """A typed characteristic a specification may fix."""

    name: str
    type: str
    unit: str | None = None
    values: tuple[Any, ...] | None = None
    description: str = ""

    def check(self, value: Any) -> str | None:
        """Why the value does not fit, or None."""
        expected = _TYPES[self.type]
        if (isinstance(value, bool) and self.type != "bool") or not isinstance(value, expected):
            return f"{self.name} must be {self.type}, got {value!r}"
        if self.values is not None and value not in self.values:
            return f"{self.name} must be one of {list(self.values)}, got {value!r}"
        return None


@dataclass(frozen=True)
class Spec:
    """A resource specification (资源规格): a kind with fixed characteristics."""

    id: str
    kind: str
    name: str
    characteristics: dict[str, Any]


@dataclass(frozen=True)
class ProductDef:
    """A product CRM sells, and the technology that delivers it."""

    id: str
    name: str
    service_type: str
    technology: str
    lead_time_hours: int


#: Which anchors a packaging rule takes: a table (every key equal; a list value means one of) or a
#: sequence of tables (any of them). Keys are fields of the anchor kind or declared characteristics.
Where: TypeAlias = Mapping[str, Any] | tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class PackageRule:
    """How network resources at a site are packaged into one business resource for CRM (and, for
    splitters, which outputs are sold at all: `pboss.inventory.sellable`)."""

    id: str
    name: str
    anchor_kind: str
    sells: tuple[str, ...]
    unit_kind: str | None = None
    where: Where = field(default_factory=dict)


@dataclass(frozen=True)
class BusinessHours:
    """When a business-hours SLA clock runs: `start`-`end` local time on ISO `days` (1=Mon),
    except `holidays` (YYYY-MM-DD)."""

    timezone: str = "Asia/Shanghai"
    start: str = "08:30"
    end: str = "17:30"
    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    holidays: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlaRule:
    """A service level for construction or repair work: the first rule matching the work, the
    product, the customer's SLA tier and whether a partner builds it decides (empty matches all)."""

    id: str
    work: str
    hours: float
    clock: str = "calendar"
    products: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    partner_built: bool | None = None
    jeopardy: float = 0.75
    escalate: tuple[str, ...] = ()

    def matches(self, work: str, product: str | None, tier: str | None, partner: bool) -> bool:
        """True when this rule covers the work order described."""
        return (
            self.work == work
            and (not self.products or product in self.products)
            and (not self.tiers or tier in self.tiers)
            and (self.partner_built is None or self.partner_built == partner)
        )


@dataclass(frozen=True)
class Catalog:
    """Everything the catalog file declares, validated once at load."""

    characteristics: dict[str, Characteristic]
    specs: dict[str, Spec]
    products: dict[str, ProductDef]
    packages: tuple[PackageRule, ...]
    slas: tuple[SlaRule, ...] = ()
    business_hours: BusinessHours = field(default_factory=BusinessHours)

    def sla_for(self, work: str, product: str | None, tier: str | None, partner: bool) -> SlaRule:
        """The service level of a work order: the first matching rule (each kind of work has a
        catch-all, checked at load)."""
        for rule in self.slas:
            if rule.matches(work, product, tier, partner):
                return rule
        raise LookupError(f"no SLA rule for {work} work (the catalog needs a catch-all)")

    def apply_spec(self, node: Element, index: int | None = None) -> list[Issue]:
        """Fill unset characteristics from the node's spec; report contradictions and bad specs."""
        if node.spec is None:
            return []
        item = f"{node.kind} {node.id!r}"
        spec = self.specs.get(node.spec)
        if spec is None:
            return [Issue(item, f"unknown spec {node.spec!r}", "spec", index)]
        if spec.kind != node.kind:
            reason = f"spec {spec.id!r} is for {spec.kind}, not {node.kind}"
            return [Issue(item, reason, "spec", index)]
        issues: list[Issue] = []
        fields = type(node).model_fields
        for name, value in spec.characteristics.items():
            if name in fields:
                current = getattr(node, name)
                if name not in node.model_fields_set or current is None:
                    setattr(node, name, value)
                elif current != value:
                    reason = f"{name}={current!r} contradicts spec {spec.id!r} ({name}={value!r})"
                    issues.append(Issue(item, reason, name, index))
            elif name not in node.attrs:
                node.attrs[name] = value
            elif node.attrs[name] != value:
                reason = f"{name}={node.attrs[name]!r} contradicts spec {spec.id!r}"
                issues.append(Issue(item, reason, name, index))
        return issues


def _where(raw: Any) -> Where:
    """A rule's `where` as read: one table, or an array of tables (alternatives)."""
    if isinstance(raw, list):
        return tuple(dict(alt) if isinstance(alt, dict) else alt for alt in raw)
    return dict(raw) if isinstance(raw, dict) else raw


def _where_problems(rule: PackageRule, chars: Mapping[str, Characteristic]) -> list[str]:
    """What is wrong with a rule's `where`: not tables, or keys the anchor kind cannot have (a
    misspelt key would silently package, and sell, nothing)."""
    alts = (rule.where,) if isinstance(rule.where, Mapping) else rule.where
    if not isinstance(alts, tuple) or not all(isinstance(a, Mapping) for a in alts):
        return [f"package {rule.id}: where must be a table or an array of tables"]
    cls = KINDS.get(rule.anchor_kind)
    if cls is None:  # an anchor no view carries: `business.unsupported_rules` reports it
        return []
    known = set(chars) | set(cls.model_fields)
    return [
        f"package {rule.id}: where names {key!r}, neither a field of {rule.anchor_kind} "
        "nor a declared characteristic"
        for alt in alts
        for key in alt
        if key not in known
    ]


def _load(data: dict[str, Any], source: str) -> Catalog:
    chars = {
        name: Characteristic(
            name=name,
            type=d["type"],
            unit=d.get("unit"),
            values=tuple(d["values"]) if "values" in d else None,
            description=d.get("description", ""),
        )
        for name, d in data.get("characteristics", {}).items()
    }
    specs: dict[str, Spec] = {}
    problems: list[str] = []
    for d in data.get("spec", []):
        spec = Spec(d["id"], d["kind"], d.get("name", d["id"]), dict(d.get("characteristics", {})))
        if spec.kind not in KINDS:
            problems.append(f"spec {spec.id}: unknown kind {spec.kind}")
        for name, value in spec.characteristics.items():
            if name not in chars:
                problems.append(f"spec {spec.id}: undeclared characteristic {name}")
            elif why := chars[name].check(value):
                problems.append(f"spec {spec.id}: {why}")
        specs[spec.id] = spec
    products = {
        d["id"]: ProductDef(
            d["id"], d["name"], d["service_type"], d["technology"], d["lead_time_hours"]
        )
        for d in data.get("product", [])
    }
    packages = tuple(
        PackageRule(
            id=d["id"],
            name=d["name"],
            anchor_kind=d["anchor_kind"],
            sells=tuple(d.get("sells", [])),
            unit_kind=d.get("unit_kind"),
            where=_where(d.get("where", {})),
        )
        for d in data.get("package", [])
    )
    for rule in packages:
        problems += [
            f"package {rule.id}: unknown product {p}" for p in rule.sells if p not in products
        ]
        problems += _where_problems(rule, chars)
    slas, sla_problems = _slas(data, products)
    hours, hours_problems = _business_hours(data.get("business_hours", {}))
    problems += sla_problems + hours_problems
    if problems:
        raise ValueError(f"catalog {source} is invalid: " + "; ".join(problems))
    return Catalog(chars, specs, products, packages, slas, hours)


WORK_KINDS = ("construction", "repair")
SLA_CLOCKS = ("calendar", "business")
_SLA_KEYS = {"id", "work", "hours", "clock", "products", "tiers", "partner_built", "jeopardy"}


def _slas(
    data: dict[str, Any], products: Mapping[str, ProductDef]
) -> tuple[tuple[SlaRule, ...], list[str]]:
    """The `[[sla]]` rules and what is wrong with them (unknown keys, products, clocks, bounds, a
    kind of work with no catch-all rule)."""
    rules: list[SlaRule] = []
    problems: list[str] = []
    for n, d in enumerate(data.get("sla", []), 1):
        name = f"sla {d.get('id', n)}"
        unknown = sorted(set(d) - _SLA_KEYS - {"escalate"})
        if unknown:
            problems.append(f"{name}: unknown keys {unknown}")
            continue
        try:
            rule = SlaRule(
                id=str(d.get("id", f"sla-{n}")),
                work=d["work"],
                hours=float(d["hours"]),
                clock=d.get("clock", "calendar"),
                products=tuple(d.get("products", ())),
                tiers=tuple(d.get("tiers", ())),
                partner_built=d.get("partner_built"),
                jeopardy=float(d.get("jeopardy", 0.75)),
                escalate=tuple(d.get("escalate", ())),
            )
        except (KeyError, TypeError, ValueError) as e:
            problems.append(f"{name}: missing or bad {e}")
            continue
        if rule.work not in WORK_KINDS:
            problems.append(f"{name}: work must be one of {WORK_KINDS}, not {rule.work!r}")
        if rule.clock not in SLA_CLOCKS:
            problems.append(f"{name}: clock must be one of {SLA_CLOCKS}, not {rule.clock!r}")
        if rule.hours <= 0 or not 0 < rule.jeopardy <= 1:
            problems.append(f"{name}: hours must be > 0 and jeopardy in (0, 1]")
        problems += [f"{name}: unknown product {p}" for p in rule.products if p not in products]
        rules.append(rule)
    for work in WORK_KINDS if rules else ():
        if not any(
            r.work == work and not (r.products or r.tiers) and r.partner_built is None
            for r in rules
        ):
            problems.append(
                f"sla: {work} work needs a catch-all rule (no products, tiers or partner_built)"
            )
    return tuple(rules), problems


def _business_hours(raw: dict[str, Any]) -> tuple[BusinessHours, list[str]]:
    """The `[business_hours]` table and what is wrong with it."""
    problems: list[str] = []
    try:
        hours = BusinessHours(
            timezone=raw.get("timezone", "Asia/Shanghai"),
            start=raw.get("start", "08:30"),
            end=raw.get("end", "17:30"),
            days=tuple(raw.get("days", (1, 2, 3, 4, 5))),
            holidays=tuple(raw.get("holidays", ())),
        )
        ZoneInfo(hours.timezone)
    except (TypeError, ValueError, ZoneInfoNotFoundError) as e:
        return BusinessHours(), [f"business_hours: {e}"]
    hhmm = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
    if not (hhmm.match(hours.start) and hhmm.match(hours.end)) or hours.start >= hours.end:
        problems.append("business_hours: start and end must be HH:MM with start before end")
    if not hours.days or any(not (isinstance(d, int) and 1 <= d <= 7) for d in hours.days):
        problems.append("business_hours: days must be ISO weekdays 1..7")
    if any(not re.match(r"^\d{4}-\d{2}-\d{2}$", h) for h in hours.holidays):
        problems.append("business_hours: holidays must be dates YYYY-MM-DD")
    return hours, problems


def load_catalog(path: Path | str | None = None) -> Catalog:
    """Read and validate a catalog file (the packaged one by default)."""
    source = Path(path) if path else DEFAULT_CATALOG
    with source.open("rb") as fh:
        return _load(tomllib.load(fh), str(source))


@cache
def default_catalog() -> Catalog:
    """The packaged catalog, read once."""
    return load_catalog()
