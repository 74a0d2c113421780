"""The console's impact page of every OLT of the generated `medium` network in Neo4j: server
time against the bare riders query, in the same run. Target: an OLT's page in <= 1 s.

    python bench/bench_impact_page.py                       # local Neo4j, `medium` network
    python bench/bench_impact_page.py --reuse --olts 32     # keep the loaded network, 32 OLTs
    python bench/bench_impact_page.py --uri bolt://h:7687 --reuse

The app (`create_app` over the bench's `Neo4jStore`) answers in process through Starlette's
TestClient, so "server time" is the request from routing to the last byte of the HTML, with no
network. For each OLT, in turn: the page (`/ui/impact?id=<olt>`: every rider, the tree, the
picture, the HTML), the picture alone (`/ui/impact/<olt>.svg`), and the bare riders query the
API's `riders` field makes (`GraphStore.riders`, first page of 50 with the totals) and the one the
page makes (every rider in one call). Figures are p50 / p99 / worst over the OLTs, after one
warm-up OLT. Exit status 1 when the page's p99 exceeds the target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_reserve as r  # the local Neo4j helpers, beside this file
from fastapi.testclient import TestClient

from pboss.bootstrap import register_kinds
from pboss.config import Settings
from pboss.console.impact_tree import MAX_RIDERS
from pboss.http.app import create_app
from pboss.inventory.neo4j.store import Neo4jStore

TARGET_S = 1.0
KEY = "bench-impact-engineer"


def _load(store: Neo4jStore, args: argparse.Namespace) -> dict[str, float]:
    """Generate and load the network unless `--reuse` finds one loaded."""
    from pboss.loaders.generator import generate
    from pboss.loaders.loader import load_directory

    if args.reuse and store.counts().get("OLT", 0):
        return {}
    import tempfile

    timings: dict[str, float] = {}
    bundle = Path(args.bundle or tempfile.mkdtemp(prefix=f"pboss-{args.scale}-"))
    if not (bundle / "manifest.json").exists():
        started = time.perf_counter()
        summary = generate(bundle, args.scale, args.seed, overwrite=True)
        timings["generate_s"] = time.perf_counter() - started
        print(f"generated {summary.nodes} nodes in {bundle}")
    started = time.perf_counter()
    store.clear()
    load_directory(store, bundle)
    timings["load_s"] = time.perf_counter() - started
    print(f"loaded in {timings['load_s']:.0f} s")
    return timings


def _olts(store: Neo4jStore, limit: int | None) -> list[str]:
    rows = store.read("bench.olts", "MATCH (o:OLT) RETURN o.id AS id ORDER BY o.id")
    ids = [row["id"] for row in rows]
    return ids[:limit] if limit else ids


def _stats(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "max_ms": ordered[-1] * 1000,
        "n": len(ordered),
    }


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="Neo4j bolt URI (default: NEO4J_URI, else a local Neo4j)")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bundle", help="a generated bundle to load (generated if missing)")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded network")
    parser.add_argument("--olts", type=int, help="time only the first N OLTs (default: all)")
    parser.add_argument("--home", default=".pboss/bench-impact-neo4j")
    parser.add_argument("--port", type=int, default=7713)
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="1g")
    parser.add_argument("--keep", action="store_true", help="leave the local Neo4j running")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    register_kinds()
    uri, auth = r._endpoint(args)
    started_local = not (args.uri or os.environ.get("NEO4J_URI"))
    store = Neo4jStore(uri, auth=auth)
    try:
        timings = _load(store, args)
        settings = Settings(
            api_keys={KEY: "engineer"},
            demo=False,
            data_dir=None,
            publish_resources=False,
            hub_deliver=False,
            utilisation_sweep_seconds=0,
        )
        olts = _olts(store, args.olts)
        print(f"{len(olts)} OLTs; load average before: {os.getloadavg()[0]:.1f}")
        times: dict[str, list[float]] = {"page": [], "svg": [], "riders50": [], "riders_all": []}
        riders, sizes = [], []
        with TestClient(create_app(settings, store=store)) as client:
            client.headers["X-API-Key"] = KEY
            for i, olt in enumerate(olts[:1] + olts):
                warm = i == 0
                page_s, answer = _timed(lambda o=olt: client.get("/ui/impact", params={"id": o}))
                assert answer.status_code == 200, answer.text[:500]
                svg_s, pic = _timed(lambda o=olt: client.get(f"/ui/impact/{o}.svg"))
                assert pic.status_code == 200, pic.text[:500]
                r50_s, first = _timed(lambda o=olt: store.riders([o], first=50))
                all_s, _ = _timed(lambda o=olt: store.riders([o], first=MAX_RIDERS))
                if warm:
                    continue
                times["page"].append(page_s)
                times["svg"].append(svg_s)
                times["riders50"].append(r50_s)
                times["riders_all"].append(all_s)
                riders.append(first.totals.services)
                sizes.append(len(answer.content))
        results = {k: _stats(v) for k, v in times.items()}
        labels = {
            "page": "impact page (HTML, every rider)",
            "svg": "impact picture (SVG)",
            "riders50": "bare riders query, first 50 + totals",
            "riders_all": "riders query, every rider (the page's)",
        }
        print(f"riders per OLT: median {statistics.median(riders):.0f}, max {max(riders)}")
        print(
            f"page size: median {statistics.median(sizes) / 1024:.0f} KiB, max "
            f"{max(sizes) / 1024:.0f} KiB"
        )
        print(f"{'what':42} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for key, x in results.items():
            print(f"{labels[key]:42} {x['p50_ms']:>8.1f} {x['p99_ms']:>8.1f} {x['max_ms']:>8.1f}")
        ratio = results["page"]["p50_ms"] / results["riders50"]["p50_ms"]
        print(f"page p50 / bare riders p50: x{ratio:.1f}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        if args.json:
            payload = {
                "timings": timings,
                "results": results,
                "riders_median": statistics.median(riders),
                "riders_max": max(riders),
                "page_bytes_median": statistics.median(sizes),
            }
            Path(args.json).write_text(json.dumps(payload, indent=2))
        return 1 if results["page"]["p99_ms"] > TARGET_S * 1000 else 0
    finally:
        store.close()
        if started_local and not args.keep:
            r.neo4j_local.stop(Path(args.home))


if __name__ == "__main__":
    raise SystemExit(main())
