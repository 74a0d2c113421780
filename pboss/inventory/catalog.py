"""The resource catalog: specifications with typed characteristics, products and packaging rules.

It is data (`catalog.toml`, shipped with the package, or a file named by PBOSS_CATALOG), so a new
equipment type or product is configuration, not code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

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
class Catalog:
    """Everything the catalog file declares, validated once at load."""

    characteristics: dict[str, Characteristic]
    specs: dict[str, Spec]
    products: dict[str, ProductDef]
    packages: tuple[PackageRule, ...]

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
    if problems:
        raise ValueError(f"catalog {source} is invalid: " + "; ".join(problems))
    return Catalog(chars, specs, products, packages)


def load_catalog(path: Path | str | None = None) -> Catalog:
    """Read and validate a catalog file (the packaged one by default)."""
    source = Path(path) if path else DEFAULT_CATALOG
    with source.open("rb") as fh:
        return _load(tomllib.load(fh), str(source))


@cache
def default_catalog() -> Catalog:
    """The packaged catalog, read once."""
    return load_catalog()
