"""The console's site map and queues on a generated network, in the embedded (memory) store:
server time of each page through the app, as a logged-in engineer.

    python bench/bench_sitemap.py                          # `medium`, generated if missing
    python bench/bench_sitemap.py --scale small --bundle /tmp/small

Timed: the whole map for a product, cold (its first answer, after at most `WAIT_S` = 2 s, and
the time until every site is qualified, reloading as the page does) and warm (the per-product
cache holds while the event log has not moved); the map of one region; a site's detail; the SVG
alone; the work-order, incident and order queues. Each warm figure is the median of `--runs`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pboss.bootstrap import register_kinds
from pboss.config import Settings
from pboss.http.app import create_app
from pboss.inventory.memory.store import MemoryStore
from pboss.loaders.generator import generate
from pboss.loaders.loader import load_directory

KEY = "bench-engineer"


def _time(client: TestClient, path: str, runs: int) -> dict[str, float]:
    """Median and worst seconds of `runs` GETs of `path` (each must answer 200)."""
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path)
        took.append(time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return {"median_s": round(statistics.median(took), 4), "worst_s": round(max(took), 4)}


def main(argv: list[str] | None = None) -> int:
    """Generate or reuse a bundle, load it, time the pages; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--bundle", help="a generated bundle (generated here if missing)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    register_kinds()
    bundle = Path(args.bundle or Path(tempfile.gettempdir()) / f"pboss-bench-{args.scale}")
    if not (bundle / "manifest.json").exists():
        generate(bundle, args.scale, 1, overwrite=True)
    store = MemoryStore()
    started = time.perf_counter()
    load_directory(store, bundle)
    figures: dict[str, Any] = {"scale": args.scale, "load_s": round(time.perf_counter() - started)}
    site_rows = (bundle / "nodes" / "Site.ndjson").read_text(encoding="utf-8").splitlines()
    figures["sites"] = len(site_rows)
    settings = Settings(api_keys={KEY: "engineer"}, demo=False, publish_resources=False)
    with TestClient(create_app(settings, store=store)) as client:
        client.headers["Authorization"] = f"Bearer {KEY}"
        first_site = json.loads(site_rows[0])
        region = first_site.get("region") or ""
        for product in ("FTTH-100M", "CABLE-BB"):
            started = time.perf_counter()
            figures[f"map_first_answer_{product}"] = _time(client, f"/ui/map?product={product}", 1)
            while 'id="map-pending"' in client.get(f"/ui/map?product={product}").text:
                time.sleep(0.5)
            figures[f"map_every_site_qualified_s_{product}"] = round(
                time.perf_counter() - started, 2
            )
        figures["map_warm"] = _time(client, "/ui/map?product=FTTH-100M", args.runs)
        figures["map_region"] = _time(
            client, f"/ui/map?product=FTTH-100M&region={region}", args.runs
        )
        figures["map_site_detail"] = _time(
            client, f"/ui/map?product=FTTH-100M&site={first_site['id']}", args.runs
        )
        figures["map_svg"] = _time(client, "/ui/map.svg?product=FTTH-100M", args.runs)
        figures["svg_bytes"] = len(client.get("/ui/map.svg?product=FTTH-100M").content)
        figures["queue_work_orders"] = _time(client, "/ui/queues?tab=work-orders", args.runs)
        figures["queue_incidents"] = _time(client, "/ui/queues?tab=incidents", args.runs)
        figures["queue_orders"] = _time(client, "/ui/queues?tab=orders", args.runs)
    figures["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
