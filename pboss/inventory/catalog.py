"""The resource catalog: specifications with typed characteristics, products and packaging rules.

It is data (`catalog.toml`, shipped with the package, or a file named by PBOSS_CATALOG), so a new
equipment type or product is configuration, not code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class PackageRule:
    """How network resources at a site are packaged into one business resource for CRM."""

    id: str
    name: str
    anchor_kind: str
    sells: tuple[str, ...]
    unit_kind: str | None = None
    where: dict[str, Any] = field(default_factory=dict)


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
            where=dict(d.get("where", {})),
        )
        for d in data.get("package", [])
    )
    for rule in packages:
        problems += [
            f"package {rule.id}: unknown product {p}" for p in rule.sells if p not in products
        ]
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
