"""Neo4jStore's per-page `_Projection` rebuilds projected rider rows exactly as `_projected` (and
so `from_stored`) does: same class, values, fields set and attrs, fallbacks included."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pboss.inventory.demo import demo_network
from pboss.inventory.model import Element
from pboss.inventory.neo4j.projection import _projected, _Projection, _rider_keys

NODES = {n.id: n for n in demo_network()[0]}
SERVICE, CUSTOMER = NODES["SVC-H1-BB"], NODES["H-1"]


def _row(el: Element, keys: list[str]) -> list[Any]:
    """The value list the riders query returns for these keys (null: not stored)."""
    stored = {**el.model_dump(exclude_none=True), "kind": el.kind}
    return [stored.get(k) for k in keys]


def _same(a: Element, b: Element) -> None:
    assert type(a) is type(b)
    assert a.__dict__ == b.__dict__
    assert list(a.__dict__) == list(b.__dict__)
    assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__
    assert a.__pydantic_extra__ is None and a.__pydantic_private__ is None


CASES = [
    (SERVICE, frozenset({"id"})),
    (SERVICE, frozenset({"name", "service_type", "spec"})),
    (CUSTOMER, frozenset({"id", "name"})),
    (CUSTOMER, frozenset({"phone", "address", "sla_tier", "customer_type"})),
]


@pytest.mark.parametrize(("el", "asked"), CASES)
def test_a_projection_builds_what_projected_builds(el: Element, asked: frozenset[str]) -> None:
    keys = _rider_keys(el.kind, asked)
    values = _row(el, keys)
    _same(_Projection(el.kind, keys)(values), _projected(keys, values))


def test_nulls_missing_required_values_other_kinds_and_attrs_fall_back_alike() -> None:
    keys = _rider_keys("Customer", frozenset({"name", "phone"}))
    project = _Projection("Customer", keys)
    values = _row(CUSTOMER, keys)
    for i, key in enumerate(keys):
        if key == "id":  # a required value not stored: both refuse it the same way
            row = [*values[:i], None, *values[i + 1 :]]
            with pytest.raises(ValidationError):
                _projected(keys, row)
            with pytest.raises(ValidationError):
                project(row)
        elif key != "kind":  # any other not stored: its default, and not in the fields set
            row = [*values[:i], None, *values[i + 1 :]]
            _same(project(row), _projected(keys, row))
    other = [v if k != "kind" else "Service" for k, v in zip(keys, values, strict=True)]
    with pytest.raises(ValidationError):  # a Service without a product: refused alike
        _projected(keys, other)
    with pytest.raises(ValidationError):
        project(other)
    with_attr = sorted([*keys, "colour"])
    row = [("red" if k == "colour" else dict(zip(keys, values, strict=True))[k]) for k in with_attr]
    built = _Projection("Customer", with_attr)(row)
    _same(built, _projected(with_attr, row))
    assert built.attrs == {"colour": "red"}


def test_a_page_built_at_once_matches_one_row_at_a_time_in_order() -> None:
    """`many` keeps the rows' order and builds each exactly as a single call would: common rows
    in the batch, the rest (here a property not stored) one by one, None kept."""
    keys = _rider_keys("Customer", frozenset({"name", "phone"}))
    project = _Projection("Customer", keys)
    full = _row(CUSTOMER, keys)
    no_phone = [None if k == "phone" else v for k, v in zip(keys, full, strict=True)]
    renamed = [f"{v}-2" if k == "id" else v for k, v in zip(keys, full, strict=True)]
    rows: list[list[Any] | None] = [full, None, no_phone, renamed, full]
    built = project.many(rows)
    assert len(built) == len(rows)
    for got, values in zip(built, rows, strict=True):
        if values is None:
            assert got is None
        else:
            assert got is not None
            _same(got, project(values))
            _same(got, _projected(keys, values))
    assert [b.id for b in built if b is not None] == ["H-1", "H-1", "H-1-2", "H-1"]
    assert "phone" not in built[2].__pydantic_fields_set__  # type: ignore[union-attr]
    assert built[0] is not built[4]
