"""`from_stored` (the hot read paths' unvalidated rebuild) gives exactly what `from_props` gives."""

from __future__ import annotations

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.model import KINDS, STORED_AS_IS, from_props, from_stored
from pboss.inventory.results import Rider, new_riders


def _same(a, b) -> None:
    assert type(a) is type(b)
    assert a == b
    assert repr(a.__dict__) == repr(b.__dict__)  # values, their types and field order
    assert a.model_fields_set == b.model_fields_set
    assert a.props() == b.props()


def test_every_demo_node_rebuilds_as_validation_would() -> None:
    nodes, _ = demo_network()
    for node in nodes:
        props = {**node.props(), "_lock": True}
        _same(from_stored(props), from_props({k: v for k, v in props.items() if k != "_lock"}))


@pytest.mark.parametrize("kind", sorted(STORED_AS_IS))
def test_defaults_match_validation(kind: str) -> None:
    props = {"id": "X-1", "kind": kind}
    if kind == "Service":
        props["product"] = "FTTH-100M"
    _same(from_stored(props), from_props(props))


def test_other_kinds_and_incomplete_rows_are_validated() -> None:
    assert set(KINDS) - set(STORED_AS_IS)  # provisioning's kinds register later
    with pytest.raises(ValueError):
        from_stored({"id": "SVC-1", "kind": "Service"})  # no product: validation refuses it


def test_new_riders_builds_what_model_construct_builds() -> None:
    nodes, _ = demo_network()
    svc, cust = (next(n for n in nodes if n.kind == k) for k in ("Service", "Customer"))
    rows = [(svc, cust, "degraded", ["OLT-1"]), (svc, None, "ok", [])]
    built = new_riders(rows)
    assert len(built) == len(rows)
    for fast, (service, customer, health, impaired) in zip(built, rows, strict=True):
        slow = Rider.model_construct(
            service=service, customer=customer, health=health, impaired_by=impaired
        )
        assert fast == slow
        assert repr(fast.__dict__) == repr(slow.__dict__)
        assert fast.model_fields_set == slow.model_fields_set
        assert fast.model_dump() == slow.model_dump()
    assert built[0].__pydantic_fields_set__ is not built[1].__pydantic_fields_set__
