"""The whole flow of issue 15 on one generated network, both stores, the numbers agreeing end to
end: generate -> load -> re-load the partner's feed -> availability -> concurrent orders -> drift
-> retire with acknowledgement. Each step checks what the previous one promised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.inventory import business as biz
from pboss.inventory.catalog import default_catalog
from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, LoadReport, load_paths
from pboss.loaders.export import export_bundle
from pboss.loaders.feeds import FeedSource, load_mapping
from pboss.loaders.generator import generate
from pboss.loaders.loader import Loader
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from pboss.provisioning.steps import REFUSED
from tests.api.conftest import ENGINEER, Api, api_settings
from tests.loaders.conftest import write_bundle
from tests.loaders.test_partner_links import tietong_list
from tests.provisioning.conftest import Clock, ftth
from tests.provisioning.test_concurrency import _split, race

PRODUCT = "FTTH-100M"
SET_STATUS = """mutation($id: ID!, $to: Status!, $ack: Int) {
  setStatus(id: $id, status: $to, reason: "replaced", acknowledgedRiders: $ack) {
    __typename
    ... on ImpactNotAcknowledged { riders }
    ... on StatusChanged { element { id status } }
  }
}"""


def _feed(store: GraphStore, path: Path, **options: object) -> LoadReport:
    source = FeedSource(load_mapping("tietong-circuits"), [path], store)
    return Loader(store, LoadOptions(**options)).run(source)  # type: ignore[arg-type]


def _advertised(store: GraphStore, site: str) -> int:
    """What CRM is told is free for FTTH at a site (self-built options)."""
    q = biz.qualify(store.site_view(site), default_catalog(), PRODUCT)
    return sum(o.free for o in q.options if o.self_built)


def _an_ont_with_riders(store: GraphStore, site: str) -> str:
    """A generated ONT at the site that a customer's service uses."""
    onts = sorted(p["id"] for p in store.scan_nodes("ONT") if p["site"] == site)
    return next(o for o in onts if store.riders([o], first=1).totals.services)


def _rows(bundle: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A native bundle's rows, as `write_bundle` takes them (edges carry their type)."""
    nodes = [
        json.loads(line) for f in sorted((bundle / "nodes").glob("*.ndjson")) for line in f.open()
    ]
    edges = [
        {"type": f.stem, **json.loads(line)}
        for f in sorted((bundle / "edges").glob("*.ndjson"))
        for line in f.open(encoding="utf-8")
    ]
    return nodes, edges


def _without(bundle: Path, gone: str, out: Path) -> Path:
    """The bundle as the next inventory export would be, without one element and its edges."""
    nodes, edges = _rows(bundle)
    nodes = [n for n in nodes if n["id"] != gone]
    edges = [e for e in edges if gone not in (e["src"], e["dst"])]
    return write_bundle(out, nodes, edges)


def test_generate_load_reload_sell_drift_retire(store: GraphStore, tmp_path: Path) -> None:
    # generate and load
    bundle = tmp_path / "bundle"
    generate(bundle, "tiny", 7)
    loaded = load_paths(store, [bundle])
    assert loaded.result is not None and loaded.result.nodes_added > 0

    # an engineer takes a Tietong link into maintenance; the partner's list of what it leases
    # us, re-loaded, changes nothing: the person's status stays and is reported as drift
    links = sorted(store.scan_ids("PartnerLink", "P-TT"))
    store.set_status(links[0], "maintenance", actor="alice", reason="partner splicing")
    feed = tietong_list(store, tmp_path / "tt.csv")
    again = _feed(store, feed)
    assert again.validation.ok and again.result is not None and not again.result.changed
    assert again.drift is not None
    assert [(d.element_id, d.stored, d.set_by) for d in again.drift.statuses] == [
        (links[0], "maintenance", "alice")
    ]
    assert store.get(links[0]).status == "maintenance"  # type: ignore[union-attr]
    for link in links:
        assert len(store.neighbours(link, "out", ["TERMINATES"])) == 2

    # availability: a building with a few free outputs, then more concurrent orders than that
    sites = [s["id"] for s in store.scan_nodes("Site") if s.get("site_type") != "exchange"]
    site, free = next((s, k) for s in sorted(sites) if 0 < (k := _advertised(store, s)) <= 30)
    svc = ProvisioningService(
        store,
        notifier=Outbox(),
        clock=Clock(),
        settings=ProvisioningSettings(links_cache_seconds=0),
    )
    orders = [svc.submit_order(ftth(f"E2E{i:03}", site=site)).id for i in range(free + 5)]
    wins, losses = _split(race(svc.reserve, orders))
    assert (len(wins), len(losses)) == (free, 5)  # exactly what CRM was promised
    assert len({r.resources[0] for r in wins}) == free
    assert _advertised(store, site) == 0
    held_orders = {r.order for r in wins}
    for order_id in (o for o in orders if o not in held_orders):  # a refusal leaves its reasons
        assert svc.order(order_id).events()[-1].event == REFUSED

    # drift: the next inventory export lacks an ONT a customer rides; nothing is pruned
    ont = _an_ont_with_riders(store, site)
    services = store.riders([ont], first=1).totals.services
    assert services >= 1
    export_bundle(store, tmp_path / "export")
    nxt = _without(tmp_path / "export", ont, tmp_path / "next")
    drift = load_paths(store, [nxt], LoadOptions(prune=True))
    assert drift.drift is not None and drift.drift.node_ids == {"ONT": [ont]}
    assert drift.drift.riders[ont].totals.services == services
    assert drift.prune_kept == [ont] and store.get(ont) is not None

    # retire it (in use -> maintenance -> retired): each step is refused until the engineer
    # acknowledges exactly the riders the drift named
    with TestClient(create_app(api_settings(), store=store)) as client:
        api = Api(client)
        for to in ("MAINTENANCE", "RETIRED"):
            asked = api.data(SET_STATUS, key=ENGINEER, id=ont, to=to, ack=None)["setStatus"]
            assert asked == {"__typename": "ImpactNotAcknowledged", "riders": services}
            assert store.get(ont).status != to.lower()  # type: ignore[union-attr]
            done = api.data(SET_STATUS, key=ENGINEER, id=ont, to=to, ack=services)["setStatus"]
            assert done == {"__typename": "StatusChanged", "element": {"id": ont, "status": to}}
    history = store.history(ont, limit=1)
    assert history[0].to_status == "retired" and history[0].actor != "loader"
