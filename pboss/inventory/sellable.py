"""Which resources may be sold, and under which packaging rule: one rule, read from the catalog,
that availability, business resources and FTTH path computation all apply.

A resource belongs to the first `[[package]]` rule anchored on its kind whose `where` it matches
(so it is packaged, and counted, once). For splitters this decides which outputs are sold to
customers: the packaged catalog sells the outputs of second-stage splitters only (`where = { stage
= 2 }`), because a first-stage output feeds a future second-stage splitter. Where a first-stage
splitter does serve households directly (a single-stage building), the catalog says so, e.g.
`where = [{ stage = 2 }, { stage = 1, spec = "SPL-1x32" }]`. What CRM is shown free is then exactly
what a reservation can take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pboss.inventory.catalog import Catalog, PackageRule, Where
from pboss.inventory.model import Element


def _value(el: Element, key: str) -> Any:
    """A kind's own field, else a free attribute (characteristics a spec filled in)."""
    return getattr(el, key) if key in type(el).model_fields else el.attrs.get(key)


def _fits(value: Any, wanted: Any) -> bool:
    """Equal, or one of a list."""
    if isinstance(wanted, list | tuple):
        return value in wanted
    return bool(value == wanted)


def matches(el: Element, where: Where) -> bool:
    """True when the element satisfies a rule's `where`: a table (every key fits; a list value
    means one of) or a sequence of tables (any of them)."""
    if isinstance(where, Mapping):
        return all(_fits(_value(el, k), v) for k, v in where.items())
    return any(matches(el, alt) for alt in where)


def rule_for(catalog: Catalog, el: Element) -> PackageRule | None:
    """The packaging rule a resource belongs to: the first anchored on its kind that it matches."""
    return next(
        (r for r in catalog.packages if r.anchor_kind == el.kind and matches(el, r.where)), None
    )


def sells_outputs(catalog: Catalog, splitter: Element, product: str | None = None) -> bool:
    """True when the splitter's free outputs may be sold (for this product, when given)."""
    rule = rule_for(catalog, splitter)
    return rule is not None and (product is None or product in rule.sells)


def _describe(where: Where) -> str:
    if isinstance(where, Mapping):
        return ", ".join(f"{k}={v}" for k, v in where.items()) or "any"
    return " or ".join(f"({_describe(alt)})" for alt in where)


def not_sold_reason(catalog: Catalog, splitter: Element, product: str | None = None) -> str:
    """Why the splitter's outputs are not for sale, in the catalog's terms (for exclusions)."""
    rules: Sequence[PackageRule] = [r for r in catalog.packages if r.anchor_kind == "Splitter"]
    stage = getattr(splitter, "stage", None)
    what = f"a stage-{stage} splitter" if stage is not None else "a splitter"
    if stage == 1:
        what += " (its outputs feed second-stage splitters)"
    rule = rule_for(catalog, splitter)
    if rule is not None and product is not None:
        return f"{what}: its package {rule.id} does not sell {product}"
    if not rules:
        return f"{what}: no catalog package sells splitter outputs"
    sold = "; ".join(f"{r.id}: {_describe(r.where)}" for r in rules)
    return f"{what}: the catalog sells outputs only of splitters matching {sold}"
