"""Where one ticket opening's time goes on Neo4j: statements, round trips, lock waits.

    python bench/profile_ticket.py                 # the bench's local Neo4j (left running)
    python bench/profile_ticket.py --tickets 40 --busy 4

Needs the `medium` network loaded by `bench_assurance.py --keep` (or `--uri`). It opens
`--tickets` tickets of the busiest OLT's customers one after another through
`AssuranceService.open_ticket` and times every named statement each opening runs (the client's
`on_query`), split into the reads before the transaction (resolve: the service, its customer,
its trace) and the transaction (lock, the known-incident read, the commit's read and write
statements), plus the driver's BEGIN/COMMIT (the transaction's time less its statements).
With `--busy N`, N more threads open tickets at the same time, so the openings' write
statement and commit show what waiting on each other (the event counter's lock) costs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_assurance as b  # the bench's queries and helpers, beside this file

from pboss.assurance.model import Symptom
from pboss.assurance.service import AssuranceService
from pboss.assurance.tickets import TicketRequest
from pboss.bootstrap import register_kinds
from pboss.inventory.neo4j import local as neo4j_local
from pboss.inventory.neo4j.store import Neo4jStore

_MINE = threading.local()


class Recorder:
    """Per-thread statement timings of the opening in hand (the client's `on_query`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[dict[str, Any]] = []

    def __call__(self, name: str, seconds: float) -> None:
        trail = getattr(_MINE, "trail", None)
        if trail is not None:
            trail.append((name, seconds))


def open_one(svc: AssuranceService, n: int, service: str, prefix: str) -> dict[str, Any]:
    """Open one ticket, timing its phases and statements."""
    _MINE.trail = []
    req = TicketRequest(f"{prefix}-{n}", Symptom.NO_SYNC, service=service)
    t0 = time.perf_counter()
    opened = svc.open_ticket(req, actor="crm")
    total = time.perf_counter() - t0
    trail = _MINE.trail
    _MINE.trail = None
    return {"total": total, "trail": trail, "incident": opened.incident is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri")
    parser.add_argument("--home", default=".pboss/bench-assurance-neo4j")
    parser.add_argument("--tickets", type=int, default=30)
    parser.add_argument("--busy", type=int, default=0, help="threads opening tickets meanwhile")
    parser.add_argument("--correlate", action="store_true", help="run the batch correlator")
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions")
    args = parser.parse_args(argv)
    register_kinds()
    if args.uri:
        uri, auth = args.uri, None
    else:
        home = Path(args.home)
        uri = json.loads((home / "neo4j.json").read_text())["uri"]
        auth = neo4j_local.credentials(home)
    store = Neo4jStore(uri, auth=auth)
    rec = Recorder()
    store.client.on_query = rec
    try:
        [busiest] = store.read("bench.busiest_olt", b.BUSIEST)
        rows = store.read("bench.olt_services", b.OLT_SERVICES, olt=busiest["olt"])
        rng = random.Random(int(time.time()))
        picked = rng.sample(rows, min(len(rows), args.tickets * (1 + args.busy)))
        svc = AssuranceService(store)
        if args.correlate:
            svc.start_correlator(interval=1.0)
        prefix = f"PROF-{int(time.time())}"
        stop = threading.Event()

        def busy(k: int) -> None:
            mine = picked[args.tickets + k :: max(1, args.busy)]
            for i, row in enumerate(mine):
                if stop.is_set():
                    return
                open_one(svc, 100000 * (k + 1) + i, row["svc"], prefix)

        helpers = [threading.Thread(target=busy, args=(k,)) for k in range(args.busy)]
        for h in helpers:
            h.start()
        prof = cProfile.Profile() if args.cprofile else None
        if prof is not None:
            prof.enable()
        got = [open_one(svc, i, row["svc"], prefix) for i, row in enumerate(picked[: args.tickets])]
        if prof is not None:
            prof.disable()
        stop.set()
        for h in helpers:
            h.join()
        svc.stop_correlator()
        by_name: dict[str, list[float]] = defaultdict(list)
        per_opening: list[int] = []
        driver: list[float] = []
        for g in got:
            per_opening.append(len(g["trail"]))
            stmt = 0.0
            for name, s in g["trail"]:
                by_name[name].append(s)
                stmt += s
            driver.append(g["total"] - stmt)
        totals = [g["total"] for g in got]
        print(
            f"{len(got)} openings ({args.busy} busy threads), load average "
            f"{os.getloadavg()[0]:.1f}: total p50 {statistics.median(totals) * 1000:.1f} ms, "
            f"max {max(totals) * 1000:.1f} ms; statements per opening "
            f"{statistics.median(per_opening):.0f}; answered with an incident "
            f"{sum(g['incident'] for g in got)}"
        )
        print(f"{'statement':42} {'per opening':>11} {'p50 ms':>8} {'max ms':>8} {'share':>6}")
        whole = sum(totals)
        for name, ts in sorted(by_name.items(), key=lambda kv: -sum(kv[1])):
            print(
                f"{name:42} {len(ts) / len(got):11.1f} {statistics.median(ts) * 1000:8.2f} "
                f"{max(ts) * 1000:8.2f} {sum(ts) / whole:6.1%}"
            )
        print(
            f"{'(driver: BEGIN, COMMIT, python)':42} {'':11} "
            f"{statistics.median(driver) * 1000:8.2f} {max(driver) * 1000:8.2f} "
            f"{sum(driver) / whole:6.1%}"
        )
        if prof is not None:
            pstats.Stats(prof).sort_stats("tottime").print_stats(args.cprofile)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
