"""One rule of which splitter outputs are sold (`pboss.inventory.sellable`, from the catalog):
availability, business resources and FTTH path computation all follow it, so N concurrent
orders against an advertised K free get exactly min(N, K) holds, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.inventory import business as biz
from pboss.inventory.catalog import DEFAULT_CATALOG, Catalog, default_catalog, load_catalog
from pboss.inventory.model import Splitter
from pboss.inventory.sellable import matches, not_sold_reason, rule_for, sells_outputs
from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import NoCapacity
from pboss.provisioning.notify import Outbox
from pboss.provisioning.paths import ftth_plan
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from tests.api.conftest import CRM, Api, api_settings
from tests.provisioning.conftest import Clock, add, ftth
from tests.provisioning.test_concurrency import _split, race

STAGE_2_ONLY = "where = { stage = 2 }"
#: The packaged catalog, except that 1:4 first-stage splitters sell their outputs too.
SINGLE_STAGE_TOO = 'where = [{ stage = 2 }, { stage = 1, spec = "SPL-1x4" }]'


def stage_one_sold(tmp_path: Path) -> Catalog:
    """A catalog file saying first-stage 1:4 splitters' outputs are sold, read as a user would."""
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    assert STAGE_2_ONLY in text
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace(STAGE_2_ONLY, SINGLE_STAGE_TOO), encoding="utf-8")
    return load_catalog(path)


def advertised(store: GraphStore, catalog: Catalog, site: str) -> int:
    """What availability tells CRM is free for FTTH-100M at a site (0 when unqualified)."""
    q = biz.qualify(store.site_view(site), catalog, "FTTH-100M")
    return sum(o.free for o in q.options if o.self_built)


def fill(store: GraphStore, ports: list[str]) -> None:
    """Put an ONT on each of these splitter outputs."""
    add(
        store,
        [{"kind": "ONT", "id": f"ONT-{p}", "site": "B-DH"} for p in ports],
        [{"type": "FED_BY", "src": f"ONT-{p}", "dst": p} for p in ports],
    )


# ---- the rule itself --------------------------------------------------------------------------


def test_where_takes_a_table_a_list_of_values_or_alternatives() -> None:
    one = Splitter(id="S1", stage=1, spec="SPL-1x4")
    two = Splitter(id="S2", stage=2, spec="SPL-1x8")
    assert matches(two, {"stage": 2}) and not matches(one, {"stage": 2})
    assert matches(one, {"stage": [1, 2]}) and matches(two, {"stage": [1, 2]})
    alternatives = ({"stage": 2}, {"stage": 1, "spec": "SPL-1x32"})
    assert matches(two, alternatives) and not matches(one, alternatives)
    assert matches(one.model_copy(update={"spec": "SPL-1x32"}), alternatives)


def test_the_packaged_catalog_sells_stage_2_outputs_only() -> None:
    cat = default_catalog()
    one = Splitter(id="S1", stage=1, spec="SPL-1x4")
    two = Splitter(id="S2", stage=2, spec="SPL-1x8")
    assert sells_outputs(cat, two) and sells_outputs(cat, two, "FTTH-100M")
    assert not sells_outputs(cat, two, "MSTP-LL")  # ftth-access does not sell leased lines
    assert not sells_outputs(cat, one) and rule_for(cat, one) is None
    assert not_sold_reason(cat, one) == (
        "a stage-1 splitter (its outputs feed second-stage splitters): the catalog sells outputs "
        "only of splitters matching ftth-access: stage=2"
    )


def test_a_misspelt_where_key_makes_the_catalog_invalid(tmp_path: Path) -> None:
    text = DEFAULT_CATALOG.read_text(encoding="utf-8")
    text = text.replace(STAGE_2_ONLY, "where = { stgae = 2 }")
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="where names 'stgae', neither a field of Splitter"):
        load_catalog(path)


# ---- path computation and availability read the same rule ------------------------------------


def test_a_stage_1_output_is_not_offered_when_the_catalog_does_not_sell_it(
    demo_store: GraphStore,
) -> None:
    fill(demo_store, [f"SPL-DH-2A:{i}" for i in range(3, 9)])  # the stage-2 splitter is full
    view = demo_store.site_view("B-DH")
    free = {sv.splitter.id: sv.free_ports for sv in view.splitters}
    assert free["SPL-DH-1"] == ["SPL-DH-1:2", "SPL-DH-1:3", "SPL-DH-1:4"]  # physically free

    with pytest.raises(NoCapacity) as caught:
        ftth_plan(view, catalog=default_catalog(), product="FTTH-100M")

    assert any(r.startswith("SPL-DH-1: a stage-1 splitter") for r in caught.value.reasons)
    assert advertised(demo_store, default_catalog(), "B-DH") == 0
    [pkg] = [p for p in biz.package_site(view, default_catalog()) if p.rule.id == "ftth-access"]
    assert [c.anchor.id for c in pkg.components] == ["SPL-DH-2A"]
    assert (pkg.capacity, pkg.used, pkg.free) == (8, 8, 0)


def test_a_stage_1_output_is_offered_and_counted_where_the_catalog_sells_it(
    demo_store: GraphStore, tmp_path: Path
) -> None:
    cat = stage_one_sold(tmp_path)
    fill(demo_store, [f"SPL-DH-2A:{i}" for i in range(3, 9)])
    view = demo_store.site_view("B-DH")

    plan = ftth_plan(view, catalog=cat, product="FTTH-100M")

    [cand] = plan.candidates
    assert cand.label == "SPL-DH-1"
    assert cand.claims[0].options == ["SPL-DH-1:2", "SPL-DH-1:3", "SPL-DH-1:4"]
    assert advertised(demo_store, cat, "B-DH") == 3
    [pkg] = [p for p in biz.package_site(view, cat) if p.rule.id == "ftth-access"]
    assert [c.anchor.id for c in pkg.components] == ["SPL-DH-1", "SPL-DH-2A"]
    assert (pkg.capacity, pkg.used, pkg.free) == (12, 9, 3)

    svc = ProvisioningService(demo_store, catalog=cat, notifier=Outbox(), clock=Clock())
    res = svc.reserve(svc.submit_order(ftth("S1", site="B-DH")).id)
    assert res.resources == ["SPL-DH-1:2"]
    assert advertised(demo_store, cat, "B-DH") == 2


# ---- the promise CRM is shown is what concurrent reservations can take -----------------------


@pytest.mark.parametrize(
    ("sold", "clients", "expect_free"),
    [
        ("stage-2", 40, 3),  # the estate of the report: 3 advertised, 40 orders, 3 holds (not 6)
        ("stage-2", 2, 3),  # fewer orders than free: each gets one
        ("stage-1 too", 40, 6),  # the catalog sells the 1:4's outputs: 6 advertised, 6 holds
    ],
)
def test_n_concurrent_orders_against_k_advertised_free_get_min_n_k_holds(
    demo_store: GraphStore, tmp_path: Path, sold: str, clients: int, expect_free: int
) -> None:
    cat = default_catalog() if sold == "stage-2" else stage_one_sold(tmp_path)
    fill(demo_store, ["SPL-DH-2A:3", "SPL-DH-2A:4", "SPL-DH-2A:5"])  # 1:8 keeps 3 free
    k = advertised(demo_store, cat, "B-DH")
    assert k == expect_free
    svc = ProvisioningService(
        demo_store,
        catalog=cat,
        notifier=Outbox(),
        clock=Clock(),
        settings=ProvisioningSettings(links_cache_seconds=0),
    )
    orders = [svc.submit_order(ftth(f"K{i:02}", site="B-DH")).id for i in range(clients)]

    wins, losses = _split(race(svc.reserve, orders))

    assert len(wins) == min(clients, k)
    assert len(losses) == clients - min(clients, k)
    held = sorted(r.resources[0] for r in wins)
    assert len(set(held)) == len(held)  # no output held twice
    splitters = demo_store.get_many(sorted({p.split(":")[0] for p in held}))
    assert all(sells_outputs(cat, spl) for spl in splitters.values())
    assert advertised(demo_store, cat, "B-DH") == k - len(wins)


def test_crm_sees_over_the_api_exactly_what_reservations_took(demo_store: GraphStore) -> None:
    fill(demo_store, ["SPL-DH-2A:3", "SPL-DH-2A:4", "SPL-DH-2A:5"])
    query = """query { availability(site: "B-DH", product: "FTTH-100M") {
        ... on Availability { qualificationResult options { network freeCapacity } } } }"""
    resources = """query { businessResources(site: "B-DH") { ... on BusinessResources {
        packages { id capacity used free } } } }"""
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        api = Api(client)
        before = api.data(query, key=CRM)["availability"]
        assert before["options"] == [{"network": "self", "freeCapacity": 3}]
        svc = ProvisioningService(demo_store, notifier=Outbox(), clock=Clock())
        orders = [svc.submit_order(ftth(f"C{i:02}", site="B-DH")).id for i in range(40)]
        wins, _ = _split(race(svc.reserve, orders))
        assert len(wins) == before["options"][0]["freeCapacity"]

        after = api.data(query, key=CRM)["availability"]
        assert after["qualificationResult"] != "qualified"
        assert [o for o in after["options"] if o["network"] == "self"] == []
        packages = api.data(resources, key=CRM)["businessResources"]["packages"]
        ftth_pkg = next(p for p in packages if p["id"] == "ftth-access@B-DH")
        assert (ftth_pkg["capacity"], ftth_pkg["used"], ftth_pkg["free"]) == (8, 8, 0)
    stage_one = {sv.splitter.id: sv for sv in demo_store.site_view("B-DH").splitters}["SPL-DH-1"]
    assert stage_one.free_ports == ["SPL-DH-1:2", "SPL-DH-1:3", "SPL-DH-1:4"]  # left for stage 2
