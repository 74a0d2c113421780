"""What a full reconcile of resource publishing costs on a generated network (issue 17 item 4).

    python bench/bench_publish.py --store memory                  # medium, embedded store
    python bench/bench_publish.py --store neo4j                   # medium, local Neo4j
    python bench/bench_publish.py --store neo4j --keep            # leave that Neo4j running
    python bench/bench_publish.py --store neo4j --uri bolt://127.0.0.1:7698 --reuse

It generates the metro (`pboss.loaders.generator`, seed 1, cached in --bundle), loads it, then
times `Publishing.reconcile` three times: the first publishes every package (packageAdded,
what a first start does), the second finds nothing changed (the steady state: what the periodic
reconcile costs every `PBOSS_PUBLISH_RECONCILE_SECONDS`), the third after `--sales` sites had a
splitter output taken. It also times publishing one dirty site (what a flush after a sale costs).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pboss.bootstrap import register_kinds
from pboss.crm.publishing import EVENT_TYPE, Publishing
from pboss.inventory.model import ONT, Edge
from pboss.inventory.store import GraphStore

ROOT = Path(__file__).resolve().parents[1]


def _open(args: argparse.Namespace) -> GraphStore:
    if args.store == "memory":
        from pboss.inventory.memory.store import MemoryStore

        return MemoryStore()
    from pboss.inventory.neo4j import local as neo4j_local
    from pboss.inventory.neo4j.store import Neo4jStore

    if args.uri:
        return Neo4jStore(args.uri, auth=neo4j_local.credentials(Path(args.home)))
    home = Path(args.home)
    print(f"starting a local Neo4j in {home}")
    uri = neo4j_local.start(home, port=args.port, heap=args.heap, pagecache=args.pagecache)
    return Neo4jStore(uri, auth=neo4j_local.credentials(home))


def _load(store: GraphStore, args: argparse.Namespace) -> None:
    from pboss.loaders.generator import generate
    from pboss.loaders.loader import load_directory

    if args.reuse and store.counts().get("SplitterPort", 0) > 0:
        return
    bundle = Path(args.bundle or ROOT / ".pboss" / "bench-data" / f"{args.scale}-{args.seed}")
    if not (bundle / "manifest.json").exists():
        generate(bundle, args.scale, args.seed, overwrite=True)
    started = time.perf_counter()
    store.clear()
    load_directory(store, bundle)
    print(f"loaded {args.scale} in {time.perf_counter() - started:.0f} s")


def _sell(store: GraphStore, pub: Publishing, count: int, seed: int) -> list[str]:
    """Take one free output at `count` random packaged sites (an ONT fed by it)."""
    rng = random.Random(seed)
    sites = sorted(pub.anchor_sites())
    sold = []
    for site in rng.sample(sites, min(count, len(sites))):
        view = store.site_view(site)
        free = [p for sv in view.splitters for p in sv.free_ports]
        if not free:
            continue
        ont = ONT(id=f"BENCH-ONT-{site}", site=site)
        edge = Edge(type="FED_BY", src=ont.id, dst=free[0])
        store.upsert([ont], [edge], actor="bench", reason="a sale")
        sold.append(site)
    return sold


def _timed(label: str, fn: Any) -> Any:
    started = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - started
    events = len(out.events)
    print(f"{label:44} {seconds:8.2f} s  {out.checked:>7,} sites  {events:>7,} events")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["memory", "neo4j"], default="memory")
    parser.add_argument("--uri", help="a running Neo4j (with --home's credentials)")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bundle", help="a generated bundle (generated there if missing)")
    parser.add_argument("--reuse", action="store_true", help="keep a network already loaded")
    parser.add_argument("--sales", type=int, default=100)
    parser.add_argument("--home", default=str(ROOT / ".pboss" / "bench-publish-neo4j"))
    parser.add_argument("--port", type=int, default=7698)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="1g")
    parser.add_argument("--keep", action="store_true", help="leave a Neo4j it started running")
    args = parser.parse_args(argv)
    register_kinds()
    store = _open(args)
    try:
        _load(store, args)
        if args.reuse:  # start from an empty publication log: drop earlier runs' events
            first = store.events_after(0, types=[EVENT_TYPE], first=1)
            if first:
                print("note: the log already holds published events (first run not repeated)")
        pub = Publishing(store, store.catalog)  # type: ignore[attr-defined]
        started = time.perf_counter()
        anchored = pub.anchor_sites()
        scan = time.perf_counter() - started
        print(f"{store.name}, {args.scale}: {len(anchored):,} sites with packaged resources "
              f"(found in {scan:.2f} s), load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        _timed("reconcile 1 (publishes every package)", pub.reconcile)
        _timed("reconcile 2 (nothing changed)", pub.reconcile)
        sold = _sell(store, pub, args.sales, args.seed)
        _timed(f"reconcile 3 (after {len(sold)} sales)", pub.reconcile)
        if sold:
            _timed("publish one dirty site", lambda: pub.publish([sold[0]]))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {peak:.0f} MB, load average {os.getloadavg()[0]:.1f}")
    finally:
        store.close()
        if args.store == "neo4j" and not args.uri and not args.keep:
            from pboss.inventory.neo4j import local as neo4j_local

            neo4j_local.stop(Path(args.home))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
