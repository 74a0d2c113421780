"""An OLT goes down on the generated `medium` network in Neo4j: a storm of tickets and alarms.

    python bench/bench_assurance.py                      # local Neo4j, `medium` network
    python bench/bench_assurance.py --uri bolt://h:7687 --reuse --tickets 2000 --seconds 60

It loads the network (as bench_reserve.py does), picks the OLT with the most customers, and:

1. **quiet**: `--probe-clients` threads run ordinary reads for `--quiet-seconds` (riders of a
   random PON port of the metro, and a site's availability view, `GraphStore.site_view`, what
   `availability(site)` reads), their latencies recorded; with `--probe-process` they run in a
   process of their own, as the ordinary queries another API worker serves;
2. **storm**: `--tickets` of the OLT's customers (one service each, at random) open a ticket, and
   `--alarms` critical alarms are raised (on its lit PON ports, then on the OLT itself), at
   random instants spread over `--seconds` (open-loop arrival: a late start counts in the
   latency), by `--clients` worker threads (spread over `--workers` processes, each with its
   own correlator, as `pboss serve --workers N` runs them); the probes keep running. Tickets
   and alarms go through the real service (`AssuranceService.open_ticket`: the service's trace,
   one transaction writing the ticket and reading, unlocked, the incident known on its path;
   `apply_alarm`), with the batch correlator (`pending.py`, `--batch` per transaction) running
   on its thread as in a server. A watcher polls every `--watch` seconds which tickets are
   correlated, for each ticket's correlation lag (answered -> in its incident);
3. **drain**: after the last answer, the time until nothing waits for correlation;
4. **checks**: every ticket and alarm is in one active incident suspecting the OLT; the rest
   were absorbed (cancelled, with a note naming it); nothing waits; no node is left locked.

Figures: ticket answer p50/p95/p99/max (target p99 <= 200 ms), alarm p99, correlation lag
p50/p99/max and the drain after the storm, probe p99 quiet vs storm (target <= 2x). Exit
status 1 when a check fails or a target is missed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_reserve as r  # the loading helpers, beside this file

from pboss.assurance.alarms import AlarmOp
from pboss.assurance.model import AlarmType, Incident, Severity, Symptom
from pboss.assurance.pending import waiting
from pboss.assurance.service import AssuranceService
from pboss.assurance.tickets import TicketRequest
from pboss.bootstrap import register_kinds
from pboss.inventory.neo4j import local as neo4j_local
from pboss.inventory.neo4j.store import Neo4jStore
from pboss.inventory.results import FindQuery

TICKET_P99_MS = 200.0
PROBE_RATIO = 2.0
CLEAN = """
MATCH (n) WHERE n:TroubleTicket OR n:Alarm OR n:Incident OR n:CauseTally
WITH n LIMIT 5000 DETACH DELETE n RETURN count(*) AS n
"""
BUSIEST = """
MATCH (olt:OLT)<-[:PART_OF]-(pon:PonPort)
CALL (pon) {
  MATCH (pon)<-[:FED_BY]-(:Splitter)<-[:PART_OF]-(:SplitterPort)<-[:FED_BY]-(:Splitter)
        <-[:PART_OF]-(:SplitterPort)<-[:FED_BY]-(:ONT)<-[:USES]-(svc:Service)
  RETURN count(svc) AS services
}
WITH olt, sum(services) AS services
RETURN olt.id AS olt, services ORDER BY services DESC, olt LIMIT 1
"""
OLT_SERVICES = """
MATCH (:OLT {id: $olt})<-[:PART_OF]-(pon:PonPort)<-[:FED_BY]-(:Splitter)<-[:PART_OF]-()
      <-[:FED_BY]-(:Splitter)<-[:PART_OF]-()<-[:FED_BY]-(:ONT)<-[:USES]-(svc:Service)
      -[:FOR]->(c:Customer)
WITH c, min(svc.id) AS svc, pon
RETURN svc, c.id AS customer, pon.id AS pon ORDER BY svc
"""
PROBE_TARGETS = """
MATCH (pon:PonPort {status: 'in_use'}) WITH pon LIMIT 200
MATCH (pon)-[:PART_OF]->(olt:OLT)
RETURN collect(DISTINCT pon.id) AS pons, collect(DISTINCT olt.site) AS sites
"""
LOCKED = "RETURN COUNT { MATCH (n) WHERE n._lock IS NOT NULL RETURN n } AS locked"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values, in ms, rounded."""
    if not values:
        return 0.0
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))] * 1000, 1)


class Probes:
    """Threads running ordinary reads, recording latencies into the current phase."""

    def __init__(self, store: Neo4jStore, pons: list[str], sites: list[str], clients: int):
        self.store, self.pons, self.sites = store, pons, sites
        self.phase = "quiet"
        self.times: dict[str, dict[str, list[float]]] = {}
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)
        ]

    def _run(self, i: int) -> None:
        rng = random.Random(i)
        while not self.stop.is_set():
            op = "riders" if rng.random() < 0.5 else "availability"
            t0 = time.perf_counter()
            if op == "riders":
                self.store.riders([rng.choice(self.pons)], first=50)
            else:
                self.store.site_view(rng.choice(self.sites))
            took = time.perf_counter() - t0
            self.times.setdefault(self.phase, {}).setdefault(op, []).append(took)

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def _probe_child(
    uri: str,
    auth: Any,
    pons: list[str],
    sites: list[str],
    clients: int,
    storm: Any,
    stop: Any,
    out: Any,
) -> None:
    """The probes in a process of their own (`--probe-process`): the ordinary queries another
    API worker serves, as in a deployment with several; their times go back through `out`."""
    register_kinds()
    store = Neo4jStore(uri, auth=auth)
    probes = Probes(store, pons, sites, clients)
    probes.start()
    while not stop.wait(0.02):
        probes.phase = "storm" if storm.is_set() else "quiet"
    probes.finish()
    store.close()
    out.put(probes.times)


class ProbeProcess:
    """`Probes`' interface over a child process running them (see `_probe_child`)."""

    def __init__(self, uri: str, auth: Any, pons: list[str], sites: list[str], clients: int):
        ctx = multiprocessing.get_context("spawn")
        self.storm, self.stop, self.out = ctx.Event(), ctx.Event(), ctx.Queue()
        self.child = ctx.Process(
            target=_probe_child,
            args=(uri, auth, pons, sites, clients, self.storm, self.stop, self.out),
            daemon=True,
        )
        self.times: dict[str, dict[str, list[float]]] = {}

    @property
    def phase(self) -> str:
        return "storm" if self.storm.is_set() else "quiet"

    @phase.setter
    def phase(self, value: str) -> None:
        if value == "storm":
            self.storm.set()

    def start(self) -> None:
        self.child.start()

    def finish(self) -> None:
        self.stop.set()
        self.times = self.out.get(timeout=120)
        self.child.join(30)


#: Tickets' and alarms' ids carry the run, so a `--reuse` run's incidents and their events (the
#: log is kept) never take the ids of an earlier run's.
RUN = f"{int(time.time())}"


CORRELATED = """
MATCH (t:TroubleTicket) WHERE t.crm_ticket_id STARTS WITH $prefix AND t.correlate_due IS NULL
  AND t.incident IS NOT NULL
RETURN t.id AS id
"""


class Watcher:
    """Polls which of the run's tickets are correlated, noting when each was first seen so."""

    def __init__(self, store: Neo4jStore, prefix: str, every: float):
        self.store, self.prefix, self.every = store, prefix, every
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            rows = self.store.read("bench.correlated", CORRELATED, prefix=self.prefix)
            now = time.time()  # wall clock: the storm's workers may be other processes
            for row in rows:
                self.seen.setdefault(row["id"], now)
            self.stop.wait(self.every)


def open_ticket(svc: AssuranceService, n: int, service: str) -> tuple[str, str | None]:
    """CRM opens a ticket through the service; (its id, the incident it was answered with)."""
    req = TicketRequest(f"BENCH-{RUN}-{n}", Symptom.NO_SYNC, service=service)
    opened = svc.open_ticket(req, actor="crm")
    return opened.ticket.id, opened.incident.id if opened.incident else None


def raise_alarm(svc: AssuranceService, resource: str, cause: str) -> str | None:
    """The NMS raises a critical alarm through the service; the incident it is in so far."""
    op = AlarmOp(
        action="raise",
        resource=resource,
        alarm_type=AlarmType.COMMUNICATIONS,
        probable_cause=cause,
        at=datetime.now(UTC),
        severity=Severity.CRITICAL,
        source_alarm_id=f"{RUN}:{resource}:{cause}",
    )
    got = svc.apply_alarm(op, actor="nms")
    return got.incident.id if got.incident else None


Plan = list[tuple[float, str, Any]]  # (seconds after the start, "ticket" | "alarm", its args)


def storm_clients(svc: AssuranceService, plan: Plan, t_start: float, clients: int) -> dict:
    """Open the plan's tickets and raise its alarms, each at its instant after `t_start` (wall
    clock), through `clients` threads, open-loop: a late start counts in the answer time."""
    lat: dict[str, list[float]] = {"ticket": [], "alarm": []}
    answered: dict[str, float] = {}
    errors: list[str] = []
    incidents: dict[str, int] = {}

    def run(item: tuple[float, str, Any]) -> None:
        at_s, what, arg = item
        delay = t_start + at_s - time.time()
        if delay > 0:
            time.sleep(delay)
        try:
            if what == "ticket":
                n, row = arg
                tid, got = open_ticket(svc, n, row["svc"])
                answered[tid] = time.time()
            else:
                got = raise_alarm(svc, arg[0], arg[1])
        except Exception as exc:
            errors.append(f"{what}: {type(exc).__name__}: {exc}"[:300])
            return
        lat[what].append(time.time() - (t_start + at_s))
        incidents[got or "-"] = incidents.get(got or "-", 0) + 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, plan))
    return {"lat": lat, "answered": answered, "errors": errors, "incidents": incidents}


def _storm_child(
    uri: str,
    auth: Any,
    plan: Plan,
    start: Any,
    clients: int,
    batch: int,
    out: Any,
    stop: Any,
    run: str,
) -> None:
    """One API worker of `--workers`: its share of the storm through its own store, service
    and correlator thread (one per process, as `pboss serve --workers N` runs them); the
    correlator keeps going until the lead has seen nothing wait."""
    global RUN
    RUN = run  # the lead's: this module was imported again here, at another second
    register_kinds()
    store = Neo4jStore(uri, auth=auth)
    svc = AssuranceService(store)
    runner = svc.start_correlator(interval=1.0, batch=batch)
    out.put("ready")
    start["go"].wait()  # the lead starts the clock once every worker is up
    out.put(storm_clients(svc, plan, start["at"].value, clients))
    stop.wait()
    runner.stop()
    store.close()


def merged(parts: list[dict]) -> dict:
    """The workers' results as one."""
    total: dict = {"lat": {"ticket": [], "alarm": []}, "answered": {}, "errors": [],
                   "incidents": {}}  # fmt: skip
    for part in parts:
        for what, values in part["lat"].items():
            total["lat"][what] += values
        total["answered"].update(part["answered"])
        total["errors"] += part["errors"]
        for inc, n in part["incidents"].items():
            total["incidents"][inc] = total["incidents"].get(inc, 0) + n
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", help="Neo4j bolt URI (default: NEO4J_URI, else a local Neo4j)")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bundle", help="a generated bundle to load (generated if missing)")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded network")
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--alarms", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--probe-clients", type=int, default=4)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API worker processes the storm's clients are spread over, each with its own "
        "correlator (as `pboss serve --workers N`); 1: threads of this process",
    )
    parser.add_argument(
        "--probe-process",
        action="store_true",
        help="run the probes in a process of their own (another API worker), not as threads "
        "beside the storm's clients",
    )
    parser.add_argument("--batch", type=int, default=25, help="records per correlation batch")
    parser.add_argument("--watch", type=float, default=0.25, help="correlation poll, seconds")
    parser.add_argument("--quiet-seconds", type=float, default=20.0)
    parser.add_argument("--home", default=".pboss/bench-assurance-neo4j")
    parser.add_argument("--port", type=int, default=7717)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="512m")
    parser.add_argument("--keep", action="store_true", help="leave the local Neo4j running")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    register_kinds()

    uri, auth = r._endpoint(args)
    started_local = not (args.uri or os.environ.get("NEO4J_URI"))
    store = Neo4jStore(uri, auth=auth)
    try:
        timings = r._load(store, args)
        while store.execute_write(lambda tx: tx.run(CLEAN).single()["n"]):
            pass
        [busiest] = store.read("bench.busiest_olt", BUSIEST)
        olt = busiest["olt"]
        rows = store.read("bench.olt_services", OLT_SERVICES, olt=olt)
        [targets] = store.read("bench.probe_targets", PROBE_TARGETS)
        print(f"OLT {olt}: {len(rows)} customers; load average {os.getloadavg()[0]:.1f}")
        rng = random.Random(args.seed)
        chosen = rng.sample(rows, min(args.tickets, len(rows)))
        lit = sorted({row["pon"] for row in rows})
        alarm_on = [(p, "LOS") for p in lit] + [
            (olt, f"cause-{i}") for i in range(max(0, args.alarms - len(lit)))
        ]
        alarm_on = alarm_on[: args.alarms]
        plan: list[tuple[float, str, Any]] = [
            (rng.uniform(0, args.seconds), "ticket", (i, row)) for i, row in enumerate(chosen)
        ] + [(rng.uniform(0, args.seconds), "alarm", a) for a in alarm_on]
        plan.sort(key=lambda p: p[0])

        probes: Probes | ProbeProcess = (
            ProbeProcess(uri, auth, targets["pons"], targets["sites"], args.probe_clients)
            if args.probe_process
            else Probes(store, targets["pons"], targets["sites"], args.probe_clients)
        )
        probes.start()
        time.sleep(args.quiet_seconds)
        watcher = Watcher(store, f"BENCH-{RUN}-", args.watch)
        watcher.thread.start()
        probes.phase = "storm"
        if args.workers > 1:  # the storm over API worker processes, each its own correlator
            ctx = multiprocessing.get_context("spawn")
            out, stop = ctx.Queue(), ctx.Event()
            start = {"go": ctx.Event(), "at": ctx.Value("d", 0.0)}
            share = max(1, args.clients // args.workers)
            children = []
            for w in range(args.workers):
                mine = plan[w :: args.workers]
                part = (uri, auth, mine, start, share, args.batch, out, stop, RUN)
                children.append(ctx.Process(target=_storm_child, args=part, daemon=True))
            for child in children:
                child.start()
            for _ in children:  # the workers' start-up is not the storm's
                assert out.get(timeout=120) == "ready"
            t_start = start["at"].value = time.time()
            start["go"].set()
            got = merged([out.get(timeout=args.seconds + 600) for _ in children])
        else:
            svc = AssuranceService(store)
            runner = svc.start_correlator(interval=1.0, batch=args.batch)
            t_start = time.time()
            got = storm_clients(svc, plan, t_start, args.clients)
        lat, answered, errors, incidents = (
            got["lat"],
            got["answered"],
            got["errors"],
            got["incidents"],
        )
        storm_end = time.time()
        storm_s = storm_end - t_start
        while waiting(store, 1) and time.time() - storm_end < 600:
            time.sleep(0.05)
        drain_s = time.time() - storm_end
        time.sleep(2 * args.watch)
        watcher.stop.set()
        watcher.thread.join()
        if args.workers > 1:
            stop.set()
            for child in children:
                child.join(30)
        else:
            runner.stop()
        probes.finish()
        left_waiting = len(waiting(store))
        lag = [watcher.seen[t] - a for t, a in answered.items() if t in watcher.seen]

        active = [
            el
            for el in store.find(FindQuery(kind="Incident", limit=1000)).items
            if isinstance(el, Incident)
        ]
        live = [i for i in active if i.state in ("open", "confirmed")]
        on_olt = [i for i in live if i.suspected == olt]
        grouped = sum(len(i.tickets) + len(i.alarms) for i in on_olt)
        [left] = store.read("bench.locked", LOCKED)
        quiet = probes.times.get("quiet", {})
        storm = probes.times.get("storm", {})
        result = {
            "olt": olt,
            "customers": len(rows),
            "tickets": len(chosen),
            "alarms": len(alarm_on),
            "storm_seconds": round(storm_s, 1),
            "ticket_ms": {
                q: pct(lat["ticket"], v)
                for q, v in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
            },
            "alarm_ms": {q: pct(lat["alarm"], v) for q, v in (("p50", 0.5), ("p99", 0.99))},
            "correlation_lag_ms": {
                q: pct(lag, v) for q, v in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))
            },
            "lag_seen": len(lag),
            "drain_after_storm_s": round(drain_s, 1),
            "waiting_left": left_waiting,
            "answered_with_an_incident": sum(v for k, v in incidents.items() if k != "-"),
            "probe_p99_ms": {
                op: {
                    "quiet": pct(quiet.get(op, []), 0.99),
                    "storm": pct(storm.get(op, []), 0.99),
                    "n": [len(quiet.get(op, [])), len(storm.get(op, []))],
                }
                for op in ("riders", "availability")
            },
            "active_incidents": len(live),
            "on_the_olt": len(on_olt),
            "grouped_on_the_olt": grouped,
            "cancelled_absorbed": sum(1 for i in active if i.state == "cancelled"),
            "answers_by_incident": dict(sorted(incidents.items(), key=lambda kv: -kv[1])[:5]),
            "errors": len(errors),
            "error_samples": errors[:5],
            "locked_left": left["locked"],
            "workers": args.workers,
            "probes": "own process" if args.probe_process else "threads beside the storm",
            "load_average_1m": round(os.getloadavg()[0], 1),
            "timings": timings,
            "mean_ticket_ms": round(statistics.mean(lat["ticket"]) * 1000, 1)
            if lat["ticket"]
            else 0,
        }
        print(json.dumps(result, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        ok = (
            not errors
            and len(live) == 1
            and len(on_olt) == 1
            and grouped == len(chosen) + len(alarm_on)
            and left["locked"] == 0
            and left_waiting == 0
            and result["ticket_ms"]["p99"] <= TICKET_P99_MS
            and all(
                v["storm"] <= PROBE_RATIO * max(v["quiet"], 1.0)
                for v in result["probe_p99_ms"].values()
            )
        )
        print("PASS" if ok else "FAIL (see the figures)")
        return 0 if ok else 1
    finally:
        store.close()
        if started_local and not args.keep:
            neo4j_local.stop(Path(args.home))


if __name__ == "__main__":
    raise SystemExit(main())
