"""The console's reports page (/ui/reports) on a generated network: server time of the page, of
each chart's SVG (drawn by matplotlib) and CSV, and the process's memory before and after.

    python bench/bench_console_reports.py                          # memory store, `medium`
    python bench/bench_console_reports.py --store neo4j --reuse    # local Neo4j (bench_reports')

Requests go through the real app (FastAPI's TestClient: routing, the session, the in-process
GraphQL schema, the chart drawing) as an engineer, for the month with field history (2026-11).
The first request of each kind is reported apart (matplotlib's import and font cache are paid
there), then the median and worst of `--runs`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fastapi.testclient import TestClient

from pboss.bootstrap import register_kinds
from pboss.config import Settings
from pboss.http.app import create_app
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.store import GraphStore

KEY = "bench-console-engineer"
MONTH = "2026-11"
CHARTS = ("utilisation", "take-up", "sla", "scorecards")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_store(scale: str, seed: int, bundle_dir: str | None) -> GraphStore:
    from pboss.loaders.generator import generate
    from pboss.loaders.loader import load_directory

    bundle = Path(bundle_dir or tempfile.mkdtemp(prefix=f"pboss-console-{scale}-"))
    if not (bundle / "manifest.json").exists():
        generate(bundle, scale, seed, overwrite=True)
    store = MemoryStore()
    load_directory(store, bundle)
    return store


def _time(client: TestClient, path: str, params: dict[str, str], runs: int) -> dict[str, Any]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path, params=params)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return {
        "first_s": seconds[0],
        "median_s": statistics.median(seconds[1:] or seconds),
        "max_s": max(seconds[1:] or seconds),
        "bytes": len(answer.content),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("memory", "neo4j"), default="memory")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--bundle", help="a generated bundle to load (generated if missing)")
    parser.add_argument("--kind", default="SPLITTER", help="what the utilisation chart shows")
    args, rest = parser.parse_known_args(argv)

    register_kinds()
    started = time.perf_counter()
    if args.store == "memory":
        store: GraphStore = _memory_store(args.scale, args.seed, args.bundle)
        close = store.close if hasattr(store, "close") else (lambda: None)
    else:
        import bench_reports as br
        import bench_reserve as r

        from pboss.inventory.neo4j.store import Neo4jStore

        nargs = argparse.Namespace(
            uri=None, scale=args.scale, seed=args.seed, bundle=None, reuse="--reuse" in rest,
            home=".pboss/bench-reports-neo4j", port=7701, heap="2g", pagecache="1g",
        )  # fmt: skip
        uri, auth = r._endpoint(nargs)
        store = Neo4jStore(uri, auth=auth)
        br._load(store, nargs)
        close = store.close
    print(f"{args.scale} on {args.store} ready in {time.perf_counter() - started:.0f} s")
    try:
        settings = Settings(
            api_keys={KEY: "engineer"}, demo=False, publish_resources=False, hub_deliver=False,
            utilisation_sweep_seconds=0,
        )  # fmt: skip
        before = _rss_mb()
        with TestClient(create_app(settings, store=store)) as client:
            client.headers["Authorization"] = f"Bearer {KEY}"
            params = {"period": MONTH, "kind": args.kind}
            load = os.getloadavg()[0]
            results = {"page /ui/reports": _time(client, "/ui/reports", params, args.runs)}
            for name in CHARTS:
                for ext in ("svg", "csv"):
                    path = f"/ui/reports/{name}.{ext}"
                    results[f"{name}.{ext}"] = _time(client, path, params, args.runs)
        print(f"{'request':22} {'first s':>8} {'median s':>9} {'worst s':>8} {'bytes':>8}")
        for name, x in results.items():
            print(
                f"{name:22} {x['first_s']:>8.3f} {x['median_s']:>9.3f} {x['max_s']:>8.3f} "
                f"{x['bytes']:>8}"
            )
        print(f"max RSS before the app {before:.0f} MB, after the requests {_rss_mb():.0f} MB")
        print(f"machine load average (1 min) before/after: {load:.1f} / {os.getloadavg()[0]:.1f}")
    finally:
        close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
