"""The console's trace page on the generated `medium` network in Neo4j: server time per page
(target <= 300 ms) against the bare GraphQL `trace` query for the same ids, in the same run.

    python bench/bench_trace_page.py                      # local Neo4j of its own, medium network
    python bench/bench_trace_page.py --reuse --samples 300 --keep
    python bench/bench_trace_page.py --uri bolt://h:7687  # a Neo4j already holding medium

The network is generated once (seed 1, cached in .pboss/bench-data/) and bulk-imported into an
empty local instance (`pboss.loaders.initial.initial_import`); `--reuse` keeps a loaded one. The
app runs in process (`create_app` over the Neo4j store, an engineer key) and is called through
Starlette's TestClient, so the time is the server's: routing, GraphQL, the fault lookups, the SVG
and the HTML, without a network. For each sampled circuit, service and customer, one after the
other: the page (`/ui/trace?id=`), the picture alone (`/ui/trace/<id>.svg`) and the baseline,
a POST /graphql of the bare `trace` query (hops with element ids, owner, slots). The figures are
p50, p99 and worst in ms per kind and the page's p50 over the baseline's. The search page is
timed too (sampled circuit ids, site addresses, customers' phones; no target). Exit status 1 when
a trace page's p99 exceeds the target.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 300.0
KEY = "bench-trace-page-engineer"
BASELINE = """query BenchTrace($id: ID!) { trace(id: $id) { __typename
  ... on Trace { health hops { role owner slots element { id } } }
  ... on CustomerTrace { health traces { hops { role owner slots element { id } } } } } }"""
SEARCHES = {
    "search id": "MATCH (c:Circuit) RETURN c.id AS text ORDER BY text",
    "search address": "MATCH (s:Site) WHERE s.address IS NOT NULL RETURN s.address AS text "
    "ORDER BY text",
    "search phone": "MATCH (c:Customer) WHERE c.phone IS NOT NULL RETURN c.phone AS text "
    "ORDER BY text LIMIT 20000",
}
TARGETS = {
    "circuit": "MATCH (c:Circuit)-[:ROUTED_OVER]->() RETURN DISTINCT c.id AS id ORDER BY id",
    "service": "MATCH (s:Service)-[:USES]->() RETURN s.id AS id ORDER BY id",
    "customer": "MATCH (:Service)-[:FOR]->(c:Customer) RETURN DISTINCT c.id AS id ORDER BY id",
}


def _percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _endpoint(args: argparse.Namespace) -> tuple[str, Any, bool]:
    """The Neo4j to use: --uri / NEO4J_URI, else a local instance of the bench's own, holding
    `medium` (generated and bulk-imported unless --reuse finds it loaded). Also whether the
    bench started it."""
    from pboss.inventory.neo4j import local
    from pboss.inventory.neo4j.store import Neo4jStore

    uri = args.uri or os.environ.get("NEO4J_URI")
    if uri:
        user, password = os.environ.get("NEO4J_USER"), os.environ.get("NEO4J_PASSWORD")
        return uri, ((user, password or "") if user else None), False
    home = Path(args.home).resolve()
    info = local.status(home)
    if not (info and info.get("alive")):
        print(f"starting a local Neo4j in {home} (heap {args.heap}, page cache {args.pagecache})")
        local.start(home, port=args.port, heap=args.heap, pagecache=args.pagecache, timeout=900)
    info = local.status(home) or {}
    uri, auth = str(info["uri"]), local.credentials(home)
    store = Neo4jStore(uri, auth)
    try:
        loaded = store.counts().get("Circuit", 0) > 0
    finally:
        store.close()
    if loaded and args.reuse:
        return uri, auth, True
    if loaded:
        raise SystemExit(f"{home} already holds a network: pass --reuse to use it")
    import bench_load

    from pboss.loaders.initial import initial_import

    bundle = bench_load._bundle(ROOT / ".pboss" / "bench-data", args.scale, args.seed)
    started = time.perf_counter()
    initial_import([bundle], home, port=args.port, heap=args.heap, pagecache=args.pagecache)
    print(f"imported {bundle} in {time.perf_counter() - started:.0f} s", flush=True)
    info = local.status(home) or {}
    return str(info["uri"]), auth, True


def _sample(store: Any, samples: int, seed: int) -> dict[str, list[str]]:
    """Up to `samples` ids of each kind, drawn with a fixed seed."""
    rng = random.Random(seed)
    out = {}
    for kind, cypher in TARGETS.items():
        ids = [row["id"] for row in store.read(f"bench.trace.{kind}", cypher)]
        out[kind] = rng.sample(ids, min(samples, len(ids)))
    return out


def _search_texts(store: Any, samples: int, seed: int) -> dict[str, list[str]]:
    """Up to `samples` texts of each search kind (circuit ids, site addresses, phones)."""
    rng = random.Random(seed)
    out = {}
    for kind, cypher in SEARCHES.items():
        texts = [row["text"] for row in store.read(f"bench.{kind.replace(' ', '.')}", cypher)]
        out[kind] = rng.sample(texts, min(samples, len(texts)))
    return out


def _timed(call: Any) -> float:
    started = time.perf_counter()
    answer = call()
    ms = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{answer.request.url} answered {answer.status_code}: {answer.text[:500]}")
    return ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="Neo4j bolt URI (default: NEO4J_URI, else a local Neo4j)")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="use the network already loaded")
    parser.add_argument("--samples", type=int, default=200, help="ids of each kind")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--searches", type=int, default=30, help="search texts of each kind")
    parser.add_argument("--home", default=".pboss/bench-trace-neo4j")
    parser.add_argument("--port", type=int, default=7711)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="1g")
    parser.add_argument("--keep", action="store_true", help="leave the local Neo4j running")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    from fastapi.testclient import TestClient

    from pboss.bootstrap import register_kinds
    from pboss.config import Settings
    from pboss.http.app import create_app
    from pboss.inventory.neo4j import local
    from pboss.inventory.neo4j.store import Neo4jStore

    register_kinds()
    uri, auth, started_local = _endpoint(args)
    store = Neo4jStore(uri, auth)
    try:
        targets = _sample(store, args.samples, args.seed)
        texts = _search_texts(store, args.searches, args.seed)
        settings = Settings(store="neo4j", demo=False, api_keys={KEY: "engineer"})
        header = {"X-API-Key": KEY}
        results: dict[str, dict[str, list[float]]] = {}
        load = os.getloadavg()[0]
        with TestClient(create_app(settings, store=store)) as client:
            ids = [i for kind in targets.values() for i in kind]
            for element_id in ids[: args.warmup]:
                client.get("/ui/trace", params={"id": element_id}, headers=header)
            for kind, kind_ids in targets.items():
                rows: dict[str, list[float]] = {"page": [], "svg": [], "graphql": []}
                for element_id in kind_ids:
                    rows["page"].append(
                        _timed(
                            lambda i=element_id: client.get(
                                "/ui/trace", params={"id": i}, headers=header
                            )
                        )
                    )
                    rows["svg"].append(
                        _timed(
                            lambda i=element_id: client.get(f"/ui/trace/{i}.svg", headers=header)
                        )
                    )
                    rows["graphql"].append(
                        _timed(
                            lambda i=element_id: client.post(
                                "/graphql",
                                json={"query": BASELINE, "variables": {"id": i}},
                                headers=header,
                            )
                        )
                    )
                results[kind] = rows
            for kind, kind_texts in texts.items():
                results[kind] = {
                    "page": [
                        _timed(
                            lambda t=text: client.get("/ui/search", params={"q": t}, headers=header)
                        )
                        for text in kind_texts
                    ]
                }
        print(f"{len(ids)} ids; machine load average (1 min) before/after: "
              f"{load:.1f} / {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(
            f"{'kind':9} {'what':8} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
            f"{'x base':>7}"
        )
        summary: dict[str, dict[str, dict[str, float]]] = {}
        for kind, rows in results.items():
            base = statistics.median(rows.get("graphql") or rows["page"])
            summary[kind] = {}
            for what, values in rows.items():
                p50, p99 = statistics.median(values), _percentile(values, 99)
                summary[kind][what] = {"n": len(values), "p50_ms": p50, "p99_ms": p99,
                                       "max_ms": max(values), "x_baseline": p50 / base}  # fmt: skip
                print(f"{kind:9} {what:8} {len(values):>4} {p50:>8.1f} {p99:>8.1f} "
                      f"{max(values):>8.1f} {p50 / base:>7.2f}")  # fmt: skip
        if args.json:
            Path(args.json).write_text(json.dumps({"load": load, "results": summary}, indent=2))
        worst = max(summary[kind]["page"]["p99_ms"] for kind in TARGETS)
        return 1 if worst > TARGET_MS else 0
    finally:
        store.close()
        if started_local and not args.keep and not args.uri:
            local.stop(Path(args.home).resolve())


if __name__ == "__main__":
    raise SystemExit(main())
