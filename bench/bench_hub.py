"""The event hub's delivery on Neo4j (issue 17): events/s delivered, delay commit -> delivery,
a kill -9 of the deliverer mid-run, and the deliverer's memory over 100k events.

Three processes, as in production: this script commits events into Neo4j (the producer), a
deliverer process runs `pboss.hub.runner.start_delivery` on the same Neo4j, and the receiver
(`tests/hub/receiver.py --light`, FastAPI under uvicorn) verifies every signature and counts
events per listener path: unique, duplicates, out of order, and the delay from the event's time
(set just before its commit) to its arrival.

Phases:

1. **baseline**: the bare receiver's request rate with a plain httpx loop (one connection, one
   request at a time, signed bodies like the deliverer's; and 20 connections at once), so the
   deliverer's figures can be read as a ratio of what this machine's receiver takes;
2. **rate**: for each listener count (`--listeners 1,1x50,20`: `NxB` is N listeners of
   batchSize B, one event per POST without `xB`), events committed at `--rate` per second (in
   transactions of `--per-tx`) for `--events` events; delivered events/s (per listener, and
   events/s to all listeners) and the p50/p99 delay;
3. **kill**: the same with 1 listener, the deliverer killed with SIGKILL half way through and a
   new one started at once (it takes over when the dead one's lease runs out, `--lease`
   seconds): lost events (must be 0) and redelivered ones (`--kill-batch 1,50`: per batchSize);
4. **ab**: the 1-listener run twice with the deliverer of another checkout (`--ab-root`, the
   code before a change) and twice with this one, alternating, against the same baseline;
5. **rss**: `--rss-events` events committed as fast as the producer can, 1 listener; the
   deliverer's RSS when 10 %, 50 % and 100 % of them have arrived.

    python bench/bench_hub.py                              # local Neo4j, .pboss/bench-hub-neo4j
    python bench/bench_hub.py --uri bolt://127.0.0.1:7687  # NEO4J_USER/NEO4J_PASSWORD: auth
    python bench/bench_hub.py --phases baseline,rate --listeners 1 --events 5000

The database is cleared first (events, listeners and everything else): use a scratch Neo4j.
Exit status 1 when an event is lost or a signature fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pboss.bootstrap import register_kinds  # noqa: E402
from pboss.config import Settings  # noqa: E402
from pboss.hub.service import Caller, HubService  # noqa: E402
from pboss.hub.signing import SIGNATURE_HEADER, sign  # noqa: E402
from pboss.inventory.events import NewEvent  # noqa: E402
from pboss.inventory.neo4j import local as neo4j_local  # noqa: E402
from pboss.inventory.neo4j.store import Neo4jStore  # noqa: E402
from pboss.provisioning.events import CREATE  # noqa: E402

SECRET = "bench-hub-secret-0123456789abcdef"
ADMIN = Caller(role="admin", name="bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """A process's resident set size, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---- the processes ------------------------------------------------------------------------------


def hub_env(args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBOSS_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def start_receiver(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.hub.receiver",
            "--port",
            str(port),
            "--secret",
            SECRET,
            "--light",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_stats", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the receiver did not start")


def start_deliverer(
    args: argparse.Namespace, uri: str, auth: Any, root: Path = ROOT
) -> subprocess.Popen[bytes]:
    """The deliverer process, running the pboss of `root` (another checkout: `--ab-root`)."""
    env = hub_env(args)
    env["PYTHONPATH"] = str(root)
    env["BENCH_HUB_URI"] = uri
    env["BENCH_HUB_AUTH"] = json.dumps(list(auth) if auth else None)
    env["BENCH_HUB_LEASE"] = str(args.lease)
    if args.profile:
        env["BENCH_HUB_PROFILE"] = args.profile
    script = root / "bench" / "bench_hub.py"
    return subprocess.Popen([sys.executable, str(script), "--child-deliver"], cwd=root, env=env)


def child_deliver() -> int:
    """The deliverer process: one worker on the Neo4j, until SIGTERM (or SIGKILL)."""
    from pboss.hub.runner import start_delivery

    register_kinds()
    auth = json.loads(os.environ["BENCH_HUB_AUTH"])
    store = Neo4jStore(os.environ["BENCH_HUB_URI"], auth=tuple(auth) if auth else None)
    settings = Settings(
        hub_allowed_hosts=["127.0.0.1"],
        hub_lease_seconds=float(os.environ["BENCH_HUB_LEASE"]),
        hub_poll_seconds=0.05,
        hub_max_listeners=200,
    )
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    profile = os.environ.get("BENCH_HUB_PROFILE")
    if profile:  # the worker on this thread under cProfile (store calls run on its pool)
        import cProfile

        from pboss.hub.delivery import DeliveryWorker

        async def run() -> None:
            worker = DeliveryWorker(store, settings)
            await worker.start()
            while not stop["now"]:
                await asyncio.sleep(0.1)
            await worker.stop()

        profiler = cProfile.Profile()
        profiler.runcall(asyncio.run, run())
        profiler.dump_stats(profile)
        store.close()
        return 0
    handle = start_delivery(store, settings)
    while not stop["now"]:
        time.sleep(0.1)
    handle.stop()
    store.close()
    return 0


# ---- producing events ---------------------------------------------------------------------------


def commit_events(store: Neo4jStore, n: int, start: int) -> None:
    """Commit `n` events in one transaction; each body carries its number (the order check)."""
    now = datetime.now(UTC)
    batch = []
    for i in range(start, start + n):
        eid = f"EVT-{uuid.uuid4().hex[:16]}"
        order = {"id": f"ORD-{i}", "state": "acknowledged"}
        body = {"eventId": eid, "eventTime": now.isoformat(), "eventType": CREATE,
                "event": {"n": i, "productOrder": order}}  # fmt: skip
        batch.append(NewEvent(id=eid, type=CREATE, at=now, subject=f"ORD-{i}", body=body))

    def work(tx: Any) -> None:
        for event in batch:
            tx.emit(event)

    store.transact(work, actor="bench", reason="hub bench")


def produce(store: Neo4jStore, total: int, rate: float, per_tx: int, first: int = 0) -> float:
    """Commit `total` events numbered from `first` at `rate` per second (0: as fast as
    possible); returns seconds."""
    began = time.monotonic()
    done = 0
    while done < total:
        n = min(per_tx, total - done)
        commit_events(store, n, first + done)
        done += n
        if rate:
            ahead = began + done / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    return time.monotonic() - began


def stats(port: int) -> dict[str, Any]:
    return dict(httpx.get(f"http://127.0.0.1:{port}/_stats", timeout=30).json())


def wait_delivered(port: int, paths: list[str], n: int, timeout: float) -> float:
    """Wait until every path has `n` unique events; the time it took (monotonic seconds)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        got = stats(port)
        if all(got.get(p, {}).get("unique", 0) >= n for p in paths):
            return time.monotonic() - began
        time.sleep(0.05)
    return float("nan")


def register(store: Neo4jStore, port: int, count: int, tag: str, batch: int = 1) -> list[str]:
    hub = HubService(store, Settings(hub_allowed_hosts=["127.0.0.1"], hub_max_listeners=200))
    paths = [f"/{tag}-{i}" for i in range(count)]
    for p in paths:
        hub.register(ADMIN, f"http://127.0.0.1:{port}{p}", secret=SECRET, batch_size=batch)
    return paths


def reset(store: Neo4jStore) -> None:
    for ls in store.list_listeners():
        store.remove_listener(ls.id)


def summarise(port: int, paths: list[str]) -> dict[str, Any]:
    got = stats(port)
    rows = [got.get(p, {}) for p in paths]
    return {
        "unique": min((r.get("unique", 0) for r in rows), default=0),
        "received": sum(r.get("received", 0) for r in rows),
        "duplicates": sum(r.get("duplicates", 0) for r in rows),
        "invalid": sum(r.get("invalid", 0) for r in rows),
        "out_of_order": sum(r.get("out_of_order", 0) for r in rows),
        "p50": max((r.get("p50", 0) for r in rows), default=0),
        "p99": max((r.get("p99", 0) for r in rows), default=0),
        "max": max((r.get("max", 0) for r in rows), default=0),
    }


# ---- phases -------------------------------------------------------------------------------------


def baseline(port: int, n: int) -> dict[str, float]:
    """The bare receiver: signed POSTs from a plain httpx loop (sync, one at a time; async, 20 at
    a time), with TCP_NODELAY like the deliverer's connections."""
    body = json.dumps({"eventId": "x", "eventTime": datetime.now(UTC).isoformat(),
                       "eventType": CREATE, "event": {}}).encode()  # fmt: skip
    url = f"http://127.0.0.1:{port}/baseline"
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]  # as the deliverer's connections
    with httpx.Client(transport=httpx.HTTPTransport(socket_options=nodelay)) as client:
        began = time.monotonic()
        for i in range(n):
            headers = {SIGNATURE_HEADER: sign(SECRET, body), "X-Pboss-Event-Id": f"b{i}"}
            client.post(url, content=body, headers=headers)
        one = n / (time.monotonic() - began)

    async def many() -> float:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
        pool = httpx.AsyncHTTPTransport(socket_options=nodelay, limits=limits)
        async with httpx.AsyncClient(transport=pool) as client:

            async def worker(k: int) -> None:
                for i in range(n // 20):
                    headers = {
                        SIGNATURE_HEADER: sign(SECRET, body),
                        "X-Pboss-Event-Id": f"c{k}-{i}",
                    }
                    await client.post(url + "20", content=body, headers=headers)

            began = time.monotonic()
            await asyncio.gather(*(worker(k) for k in range(20)))
            return (n // 20 * 20) / (time.monotonic() - began)

    return {"one_at_a_time_per_s": one, "twenty_at_a_time_per_s": asyncio.run(many())}


def run_rate(
    args: argparse.Namespace, store: Neo4jStore, uri: str, auth: Any, port: int, count: int,
    *, kill: bool = False, batch: int = 1, root: Path = ROOT,
) -> dict[str, Any]:  # fmt: skip
    reset(store)
    # a path of its own per run: the receiver's counts are per path
    tag = f"{'kill' if kill else 'rate'}{count}x{batch}-{uuid.uuid4().hex[:6]}"
    paths = register(store, port, count, tag, batch)
    child = start_deliverer(args, uri, auth, root)
    time.sleep(1.0)  # the deliverer claims its listeners
    began = time.monotonic()
    killed_at = None
    if kill:
        half = args.events // 2
        produce(store, half, args.rate, args.per_tx)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        killed_at = stats(port)
        child = start_deliverer(args, uri, auth, root)
        produce(store, args.events - half, args.rate, args.per_tx, first=half)
    else:
        produce(store, args.events, args.rate, args.per_tx)
    produced = time.monotonic() - began
    waited = wait_delivered(port, paths, args.events, args.timeout)
    elapsed = time.monotonic() - began
    rss = rss_mb(child.pid)
    child.terminate()
    child.wait(60)
    out = summarise(port, paths)
    out.update(
        listeners=count,
        batch_size=batch,
        events=args.events,
        produce_s=round(produced, 2),
        total_s=round(produced + waited, 2) if waited == waited else None,
        events_per_s=round(args.events / elapsed, 1),
        all_listeners_events_per_s=round(args.events * count / elapsed, 1),
        lost=args.events - out["unique"],
        deliverer_rss_mb=round(rss, 1),
    )
    if killed_at is not None:
        out["delivered_before_kill"] = sum(killed_at.get(p, {}).get("unique", 0) for p in paths)
    return out


def run_rss(args: argparse.Namespace, store: Neo4jStore, uri: str, auth: Any, port: int) -> dict:
    reset(store)
    [path] = register(store, port, 1, f"rss-x{args.rss_batch}", args.rss_batch)
    child = start_deliverer(args, uri, auth)
    time.sleep(1.0)
    total = args.rss_events
    marks = {total // 10: None, total // 2: None, total: None}
    began = time.monotonic()
    import threading

    producer = threading.Thread(target=produce, args=(store, total, 0, 500), daemon=True)
    producer.start()
    start_rss = rss_mb(child.pid)
    while any(v is None for v in marks.values()) and time.monotonic() - began < args.timeout * 4:
        got = stats(port).get(path, {}).get("unique", 0)
        for mark in marks:
            if marks[mark] is None and got >= mark:
                marks[mark] = round(rss_mb(child.pid), 1)
        time.sleep(0.2)
    elapsed = time.monotonic() - began
    producer.join(60)
    child.terminate()
    child.wait(60)
    out = summarise(port, [path])
    out.update(
        events=total,
        rss_start_mb=round(start_rss, 1),
        rss_mb={str(k): v for k, v in marks.items()},
        events_per_s=round(out["unique"] / elapsed, 1),
        lost=total - out["unique"],
    )
    return out


def endpoint(args: argparse.Namespace) -> tuple[str, Any, bool]:
    uri = args.uri or os.environ.get("NEO4J_URI")
    if uri:
        user, password = os.environ.get("NEO4J_USER"), os.environ.get("NEO4J_PASSWORD")
        return uri, ((user, password or "") if user else None), False
    home = Path(args.home)
    print(f"starting a local Neo4j in {home}")
    uri = neo4j_local.start(home, port=args.port, heap=args.heap, pagecache=args.pagecache)
    return uri, neo4j_local.credentials(home), True


def main() -> int:
    if "--child-deliver" in sys.argv:
        return child_deliver()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uri")
    parser.add_argument("--home", default=str(ROOT / ".pboss" / "bench-hub-neo4j"))
    parser.add_argument("--port", type=int, default=7694)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="512m")
    parser.add_argument("--keep", action="store_true", help="leave the local Neo4j running")
    parser.add_argument("--phases", default="baseline,rate,kill,rss")
    parser.add_argument("--listeners", default="1,20")
    parser.add_argument("--events", type=int, default=20000, help="events per rate run")
    parser.add_argument("--rate", type=float, default=1000, help="events/s committed")
    parser.add_argument("--per-tx", type=int, default=50, help="events per transaction")
    parser.add_argument("--rss-events", type=int, default=100_000)
    parser.add_argument("--kill-batch", default="1", help="batchSizes of the kill phase: 1,50")
    parser.add_argument("--rss-batch", type=int, default=1, help="batchSize in the rss phase")
    parser.add_argument("--baseline-requests", type=int, default=4000)
    parser.add_argument("--lease", type=float, default=3.0, help="deliverer lease seconds")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--ab-root", help="phase ab: the other checkout's root (before)")
    parser.add_argument("--profile", help="run the deliverer under cProfile; stats to this file")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    register_kinds()
    uri, auth, started = endpoint(args)
    store = Neo4jStore(uri, auth=auth)
    store.clear()
    port = free_port()
    receiver = start_receiver(port)
    result: dict[str, Any] = {}
    try:
        if "baseline" in phases:
            result["baseline"] = baseline(port, args.baseline_requests)
            print("baseline (bare receiver, plain httpx):", result["baseline"], flush=True)
        if "rate" in phases:
            for spec in args.listeners.split(","):
                count, _, size = spec.partition("x")
                batch = int(size or 1)
                run = run_rate(args, store, uri, auth, port, int(count), batch=batch)
                result[f"rate_{count}" + (f"x{batch}" if batch > 1 else "")] = run
                print(f"rate, {count} listener(s), batchSize {batch}:", run, flush=True)
        if "ab" in phases:  # the same 1-listener run with another checkout's deliverer, A B A B
            for turn in range(2):
                for name, root in (("before", Path(args.ab_root)), ("after", ROOT)):
                    run = run_rate(args, store, uri, auth, port, 1, root=root)
                    result[f"ab_{name}_{turn}"] = run
                    print(f"a/b {name} ({root}), 1 listener:", run, flush=True)
        if "kill" in phases:
            for size in [int(b) for b in args.kill_batch.split(",")]:
                run = run_rate(args, store, uri, auth, port, 1, kill=True, batch=size)
                result["kill" + (f"_x{size}" if size > 1 else "")] = run
                print(f"kill -9 mid-run, 1 listener, batchSize {size}:", run, flush=True)
        if "rss" in phases:
            result["rss"] = run_rss(args, store, uri, auth, port)
            print("rss over", args.rss_events, "events:", result["rss"], flush=True)
        base = result.get("baseline", {}).get("one_at_a_time_per_s")
        for key in [k for k in result if k.startswith(("rate_1", "ab_")) and base]:
            ratio = result[key]["events_per_s"] / base
            print(f"ratio: {key} events/s / bare receiver's sequential requests/s = {ratio:.2f}")
            result[f"ratio_{key}_to_baseline"] = round(ratio, 3)
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        bad = [k for k, v in result.items() if isinstance(v, dict) and (
            v.get("lost", 0) or v.get("invalid", 0))]  # fmt: skip
        if bad:
            print("LOST EVENTS OR BAD SIGNATURES in", bad)
        return 1 if bad else 0
    finally:
        receiver.terminate()
        receiver.wait(30)
        store.clear()
        store.close()
        if started and not args.keep:
            neo4j_local.stop(Path(args.home))


if __name__ == "__main__":
    raise SystemExit(main())
