"""The statistics reports and field KPIs on the generated `medium` network (with its three months
of field history) in Neo4j: each must answer in <= 2 s.

    python bench/bench_reports.py                      # local Neo4j, `medium` network
    python bench/bench_reports.py --uri bolt://h:7687 --reuse --runs 5

Each report runs `--runs` times through the same functions the API calls; the figure is the
median and the worst. The baseline, timed in the same run, is the element-by-element way a
report would otherwise be made: streaming every work order (`scan_nodes`), and reading the site
view of 200 sites one by one; the ratio says what one aggregate query saves.
Exit status 1 when a report's worst time exceeds the target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_reserve as r  # the local Neo4j helpers, beside this file

from pboss.bootstrap import register_kinds
from pboss.field import kpis, reports
from pboss.inventory.neo4j.store import Neo4jStore

TARGET_S = 2.0
MONTH = "2026-11"


def _load(store: Neo4jStore, args: argparse.Namespace) -> dict[str, float]:
    """Generate and load `medium` unless `--reuse` finds it loaded with its field history."""
    from pboss.loaders.generator import generate
    from pboss.loaders.loader import load_directory

    counts = store.counts()
    if args.reuse and counts.get("SplitterPort", 0) and counts.get("WorkOrder", 0):
        return {}
    timings: dict[str, float] = {}
    bundle = Path(args.bundle or tempfile.mkdtemp(prefix=f"pboss-{args.scale}-"))
    if not (bundle / "manifest.json").exists():
        started = time.perf_counter()
        summary = generate(bundle, args.scale, args.seed, overwrite=True)
        timings["generate_s"] = time.perf_counter() - started
        print(f"generated {summary.nodes} nodes ({summary.field_work}) in {bundle}")
    started = time.perf_counter()
    store.clear()
    load_directory(store, bundle)
    timings["load_s"] = time.perf_counter() - started
    print(f"loaded in {timings['load_s']:.0f} s")
    return timings


def _time(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    seconds = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - started)
        size = len(out.rows) if isinstance(out, reports.Report) else len(out)
    return {"median_s": statistics.median(seconds), "max_s": max(seconds), "rows": size}


def _baselines(store: Neo4jStore, runs: int) -> dict[str, dict[str, float]]:
    sites = [
        s["site"]
        for s in store.read(
            "bench.sites", "MATCH (s:Site) RETURN s.id AS site ORDER BY s.id LIMIT 200"
        )
    ]
    return {
        "scan every work order": _time(lambda: list(store.scan_nodes("WorkOrder")), runs),
        "site view of 200 sites, one by one": _time(
            lambda: [store.site_view(s) for s in sites], runs
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="Neo4j bolt URI (default: NEO4J_URI, else a local Neo4j)")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bundle", help="a generated bundle to load (generated if missing)")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded network")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--home", default=".pboss/bench-reports-neo4j")
    parser.add_argument("--port", type=int, default=7701)
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
        now = datetime(2026, 12, 1, tzinfo=UTC)
        cases: dict[str, Callable[[], Any]] = {
            f"utilisation {k}": (lambda k=k: reports.utilisation(store, k))
            for k in ("OLT", "PonPort", "Splitter", "TrunkSection", "PartnerLink", "PartnerAccess")
        }
        cases |= {
            "take-up per building": lambda: reports.take_up(store),
            "partner usage": lambda: reports.partner_usage(store),
            f"SLA attainment {MONTH}": lambda: reports.sla_attainment(store, MONTH),
            "open work by age": lambda: reports.open_work_by_age(store, now),
            f"KPIs per crew {MONTH}": lambda: kpis.kpis(store, MONTH, "crew"),
            f"KPIs per product {MONTH}": lambda: kpis.kpis(store, MONTH, "product"),
            f"partner scorecards {MONTH}": lambda: kpis.scorecards(store, MONTH),
        }
        load = os.getloadavg()[0]
        base = _baselines(store, args.runs)
        results = {name: _time(fn, args.runs) for name, fn in cases.items()}
        scan = base["scan every work order"]["median_s"]
        print(f"{'report':34} {'rows':>7} {'median s':>9} {'worst s':>8} {'vs scan':>8}")
        for name, x in {**results, **base}.items():
            print(
                f"{name:34} {x['rows']:>7} {x['median_s']:>9.3f} {x['max_s']:>8.3f} "
                f"{x['median_s'] / scan:>8.2f}"
            )
        print(f"machine load average (1 min) before/after: {load:.1f} / {os.getloadavg()[0]:.1f}")
        if args.json:
            payload = {"timings": timings, "reports": results, "baselines": base}
            Path(args.json).write_text(json.dumps(payload, indent=2))
        return 1 if any(x["max_s"] > TARGET_S for x in results.values()) else 0
    finally:
        store.close()
        if started_local and not args.keep:
            r.neo4j_local.stop(Path(args.home))


if __name__ == "__main__":
    raise SystemExit(main())
