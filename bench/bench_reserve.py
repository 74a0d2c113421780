"""Reservations per second with 1, 8 and 32 concurrent clients on a generated network in Neo4j.

Then an independent Cypher check counts double bookings (must be 0): splitter and NE ports taken
twice, VC-12 slots held twice on a section, partner pools over-committed, `_lock` left behind.

    python bench/bench_reserve.py                      # local Neo4j, `medium` network
    python bench/bench_reserve.py --uri bolt://h:7687 --scale small --clients 1,8,32

Each client reserves its own orders (FTTH at sites with free splitter outputs, a share of leased
lines with --ll-share) one after another; orders are submitted before the clock starts. The
network is generated (`pboss.loaders.generator`) and loaded once; `--reuse` keeps a loaded one
and only deletes what earlier bench runs added.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pboss.inventory.neo4j import local as neo4j_local
from pboss.inventory.neo4j.store import Neo4jStore
from pboss.provisioning.errors import NoCapacity
from pboss.provisioning.service import OrderRequest, ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings

PREFIX = "BENCH"

FREE_SPLITTER_PORTS = """
MATCH (sp:SplitterPort {status: 'available'})-[:PART_OF]->(s:Splitter)
WHERE NOT EXISTS { (sp)<-[:FED_BY|HOLDS]-() }
RETURN s.site AS site, count(sp) AS free ORDER BY site
"""
LL_SITES = """
MATCH (p:Port {status: 'available'})-[:PART_OF]->(ne:NE)
WHERE p.rate IN ['E1', 'FE', 'GE'] AND NOT EXISTS { (p)<-[:A_END|Z_END|TERMINATES|HOLDS]-() }
RETURN ne.site AS site, count(p) AS free ORDER BY site
"""
CHECKS = {
    "splitter ports taken twice": """
        MATCH (sp:SplitterPort) WHERE COUNT { (sp)<-[:FED_BY|HOLDS]-() } > 1
        RETURN count(sp) AS n""",
    "NE ports taken twice": """
        MATCH (p:Port) WHERE COUNT { (p)<-[:A_END|Z_END|TERMINATES|HOLDS]-() } > 1
        RETURN count(p) AS n""",
    "VC-12 slots held twice": """
        MATCH (s:Entity)<-[h:ROUTED_OVER|HOLDS]-() WHERE s:TrunkSection OR s:PartnerLink
        UNWIND h.slots AS slot
        WITH s, slot, count(*) AS c WHERE c > 1
        RETURN count(*) AS n""",
    "VC-12 slots out of range": """
        MATCH (s:Entity)<-[h:ROUTED_OVER|HOLDS]-() WHERE s:TrunkSection OR s:PartnerLink
        UNWIND h.slots AS slot
        WITH s, slot WHERE slot < 1 OR slot > s.capacity_vc12
        RETURN count(*) AS n""",
    "partner pools over-committed": """
        MATCH (pa:PartnerAccess) WHERE pa.used + pa.reserved > pa.total RETURN count(pa) AS n""",
    "PON ports over their split budget": """
        MATCH (pon:PonPort)
        WITH pon, size(COLLECT { MATCH (pon)<-[:FED_BY|PART_OF*1..16]-(o)
                WHERE o:ONT OR (o:SplitterPort AND EXISTS { (o)<-[:HOLDS]-() })
                RETURN DISTINCT o.id }) AS load
        WHERE load > pon.max_split RETURN count(pon) AS n""",
    "nodes left locked": "MATCH (n) WHERE n._lock IS NOT NULL RETURN count(n) AS n",
    "held reservations without holds": """
        MATCH (r:Reservation {state: 'held'}) WHERE NOT EXISTS { (r)-[:HOLDS]->() }
        RETURN count(r) AS n""",
}


@dataclass
class Level:
    """What one concurrency level measured."""

    clients: int
    attempted: int
    reserved: int
    no_capacity: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    queries_per_reservation: float
    error_samples: list[str] = field(default_factory=list)


def _endpoint(args: argparse.Namespace) -> tuple[str, Any]:
    uri = args.uri or os.environ.get("NEO4J_URI")
    if uri:
        user, password = os.environ.get("NEO4J_USER"), os.environ.get("NEO4J_PASSWORD")
        return uri, ((user, password or "") if user else None)
    home = Path(args.home)
    print(f"starting a local Neo4j in {home} (heap {args.heap}, page cache {args.pagecache})")
    uri = neo4j_local.start(home, port=args.port, heap=args.heap, pagecache=args.pagecache)
    return uri, neo4j_local.credentials(home)


def _load(store: Neo4jStore, args: argparse.Namespace) -> dict[str, float]:
    from pboss.loaders.generator import generate
    from pboss.loaders.loader import load_directory

    timings: dict[str, float] = {}
    if args.reuse and store.counts().get("SplitterPort", 0) > 0:
        started = time.perf_counter()
        for cypher in (
            "MATCH (n:Provisioning) DETACH DELETE n",
            "MATCH (n:Entity) WHERE n.id STARTS WITH $p DETACH DELETE n",
        ):
            store.execute_write(lambda tx, c=cypher: tx.run(c, p=PREFIX).consume())
        timings["cleanup_s"] = time.perf_counter() - started
        return timings
    bundle = Path(args.bundle or tempfile.mkdtemp(prefix=f"pboss-{args.scale}-"))
    if not (bundle / "manifest.json").exists():
        started = time.perf_counter()
        summary = generate(bundle, args.scale, args.seed, overwrite=True)
        timings["generate_s"] = time.perf_counter() - started
        print(f"generated {summary.nodes} nodes, {summary.edges} edges in {bundle}")
    started = time.perf_counter()
    store.clear()
    load_directory(store, bundle)
    timings["load_s"] = time.perf_counter() - started
    print(f"loaded in {timings['load_s']:.0f} s: {store.counts()}")
    return timings


def _spare_ports(store: Neo4jStore, per_ne: int) -> int:
    """Free GE tributary ports on every NE (generated NEs have none), so leased lines can sell."""
    from pboss.inventory.model import Edge, Port

    nes = store.read("bench.nes", "MATCH (ne:NE) RETURN ne.id AS id, ne.site AS site")
    ports, edges = [], []
    for ne in nes:
        for i in range(1, per_ne + 1):
            pid = f"{PREFIX}-P-{ne['id']}-{i}"
            ports.append(Port(id=pid, site=ne["site"], spec="PORT-GE", rate="GE"))
            edges.append(Edge(type="PART_OF", src=pid, dst=ne["id"]))
    store.upsert(ports, edges, actor="bench", reason="spare tributary ports")
    return len(ports)


def _requests(store: Neo4jStore, total: int, ll_share: float, rng: random.Random) -> list[Any]:
    """Orders spread over the network without asking any site for more than it has free."""
    ports = [
        r["site"] for r in store.read("bench.free", FREE_SPLITTER_PORTS) for _ in range(r["free"])
    ]
    ll_sites = [r["site"] for r in store.read("bench.ll", LL_SITES) if r["free"] >= 2]
    rng.shuffle(ports)
    out: list[Any] = []
    for i in range(total):
        crm = f"{PREFIX}-{rng.getrandbits(40):010x}-{i}"
        if ll_sites and rng.random() < ll_share:
            a, z = rng.sample(ll_sites, 2)
            out.append(
                OrderRequest(crm_order_id=crm, product="MSTP-LL", a_site=a, z_site=z,
                             customer=f"{PREFIX}-C-{i}", customer_type="enterprise")
            )  # fmt: skip
        else:
            out.append(
                OrderRequest(crm_order_id=crm, product="FTTH-100M", site=ports.pop(),
                             customer=f"{PREFIX}-C-{i}")
            )  # fmt: skip
    return out


def _submit(svc: ProvisioningService, requests: list[OrderRequest]) -> list[str]:
    with ThreadPoolExecutor(8) as pool:
        return [o.id for o in pool.map(svc.submit_order, requests)]


def _run_level(
    store: Neo4jStore, svc: ProvisioningService, clients: int, order_ids: list[str]
) -> Level:
    per_client = [order_ids[i::clients] for i in range(clients)]
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    samples: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(mine: list[str]) -> None:
        barrier.wait()
        for oid in mine:
            started = time.perf_counter()
            try:
                svc.reserve(oid)
                outcome = "reserved"
            except NoCapacity as exc:
                outcome = "no_capacity"
                with lock:
                    if len(samples) < 5:
                        samples.append(f"NoCapacity: {exc}"[:300])
            except Exception as exc:
                outcome = "error"
                with lock:
                    if len(samples) < 5:
                        samples.append(f"{type(exc).__name__}: {exc}"[:300])
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                outcomes[outcome] += 1

    threads = [threading.Thread(target=client, args=(m,)) for m in per_client]
    for t in threads:
        t.start()
    queries_before = store.queries_run
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    queries = store.queries_run - queries_before
    reserved = outcomes["reserved"]
    ms = sorted(x * 1000 for x in latencies)
    return Level(
        clients=clients,
        attempted=len(order_ids),
        reserved=reserved,
        no_capacity=outcomes["no_capacity"],
        errors=outcomes["error"],
        seconds=round(seconds, 2),
        per_second=round(reserved / seconds, 1),
        p50_ms=round(statistics.median(ms), 1),
        p95_ms=round(ms[int(0.95 * (len(ms) - 1))], 1),
        queries_per_reservation=round(queries / max(len(order_ids), 1), 1),
        error_samples=samples,
    )


def _checks(store: Neo4jStore) -> dict[str, int]:
    return {name: store.read("bench.check", cypher)[0]["n"] for name, cypher in CHECKS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="Neo4j bolt URI (default: NEO4J_URI, else a local Neo4j)")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bundle", help="a generated bundle to load (generated if missing)")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded network")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--per-client", type=int, default=40, help="reservations per client")
    parser.add_argument("--min-per-level", type=int, default=200)
    parser.add_argument("--ll-share", type=float, default=0.0, help="share of leased lines")
    parser.add_argument(
        "--spare-ports", type=int, default=8, help="free GE ports added per NE for leased lines"
    )
    parser.add_argument("--home", default=".pboss/bench-neo4j")
    parser.add_argument("--port", type=int, default=7697)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="512m")
    parser.add_argument("--keep", action="store_true", help="leave the local Neo4j running")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    uri, auth = _endpoint(args)
    started_local = not (args.uri or os.environ.get("NEO4J_URI"))
    store = Neo4jStore(uri, auth=auth)
    try:
        timings = _load(store, args)
        if args.ll_share > 0:
            print(f"added {_spare_ports(store, args.spare_ports)} spare GE ports for leased lines")
        before = _checks(store)
        settings = ProvisioningSettings(links_cache_seconds=5)
        svc = ProvisioningService(store, settings=settings)
        rng = random.Random(args.seed)
        load = os.getloadavg()[0]
        levels = []
        for clients in (int(c) for c in args.clients.split(",")):
            count = max(args.min_per_level, clients * args.per_client)
            requests = _requests(store, count, args.ll_share, rng)
            t0 = time.perf_counter()
            ids = _submit(svc, requests)
            submit_rate = len(ids) / (time.perf_counter() - t0)
            level = _run_level(store, svc, clients, ids)
            levels.append(level)
            print(
                f"{clients:>3} clients: {level.reserved}/{level.attempted} reserved in "
                f"{level.seconds} s = {level.per_second}/s, p50 {level.p50_ms} ms, "
                f"p95 {level.p95_ms} ms, {level.queries_per_reservation} queries each, "
                f"no capacity {level.no_capacity}, errors {level.errors} "
                f"(orders submitted at {submit_rate:.0f}/s)"
            )
            for sample in level.error_samples:
                print(f"      {sample}")
        after = _checks(store)
        counts = store.counts()
        print(f"machine load average (1 min) before/after: {load:.1f} / {os.getloadavg()[0]:.1f}")
        print("double-booking check (independent Cypher), before -> after the run:")
        for name in CHECKS:
            print(f"  {name:36} {before[name]} -> {after[name]}")
        result = {
            "scale": args.scale,
            "load_average_1m": [round(load, 1), round(os.getloadavg()[0], 1)],
            "nodes": sum(v for k, v in counts.items() if not k.startswith("edge:")),
            "edges": sum(v for k, v in counts.items() if k.startswith("edge:")),
            "timings": timings,
            "levels": [asdict(lv) for lv in levels],
            "checks_before": before,
            "checks_after": after,
        }
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        return 1 if sum(after.values()) or any(lv.errors for lv in levels) else 0
    finally:
        store.close()
        if started_local and not args.keep:
            neo4j_local.stop(Path(args.home))


if __name__ == "__main__":
    raise SystemExit(main())
