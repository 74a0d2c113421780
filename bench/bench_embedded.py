"""The durable embedded store: start-up from its snapshot, riders of an OLT, memory, and what
journaling costs writes, in one run.

    python bench/bench_embedded.py                       # medium, generated under --work
    python bench/bench_embedded.py --scale small --writes 2000

Steps, each timed:
1. generate the metro (cached under --work) and load it with the pboss loader into a MemoryStore
   with a data directory (every batch journaled), then close it (a compaction: the snapshot);
2. in a fresh child process (so its memory is its own): open the store from the data directory
   (load the snapshot), then riders of every OLT once (first: the answers the snapshot kept),
   again (warm) and once more with every kept answer dropped (computed), p50 / p99, and the
   child's RSS and peak RSS;
3. write throughput with and without the journal in the same process, taking turns in blocks:
   status flips (one small commit each) and CRM orders submitted (a transaction writing an order,
   a customer and an event) on the reference network, on a store with a data directory and on
   one without.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_now_mb() -> float:
    """The resident set now (not the peak)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1024 / 1024


# ---- 1. load into a data directory ---------------------------------------------------------------


def load(bundle: Path, data: Path, compare: bool) -> dict[str, float]:
    """Load the bundle into a durable store in `data` (a fresh one), then close it; with
    `compare`, into a store without a data directory first (the journal's cost on a load)."""
    import gc

    from pboss.bootstrap import register_kinds
    from pboss.inventory.memory.durable import SNAPSHOT
    from pboss.inventory.memory.store import MemoryStore
    from pboss.loaders.loader import load_directory

    register_kinds()
    out: dict[str, float] = {}
    if compare:
        started = time.perf_counter()
        load_directory(MemoryStore(), bundle)
        out["load_without_journal_s"] = time.perf_counter() - started
        gc.collect()  # that store is gone before the next load
    shutil.rmtree(data, ignore_errors=True)
    started = time.perf_counter()
    store = MemoryStore(data_dir=data)
    load_directory(store, bundle)
    loaded = time.perf_counter() - started
    assert store.durable is not None
    journal = store.durable.journal_bytes() + 0.0
    started = time.perf_counter()
    store.close()
    closed = time.perf_counter() - started
    snapshot = (data / SNAPSHOT).stat().st_size
    if compare:
        out["load_ratio_without_over_with"] = out["load_without_journal_s"] / loaded
    return out | {
        "load_s": loaded,
        "close_compact_s": closed,
        "snapshot_mb": snapshot / 1e6,
        "journal_mb_at_close": journal / 1e6,
        "compactions_during_load": float(store.durable.compactions - 1),
    }


# ---- 2. open + riders, in a child ----------------------------------------------------------------


def open_and_ask(data: Path) -> dict[str, Any]:
    """Open the store from `data` and ask riders of every OLT: first (as the snapshot left them:
    kept answers), warm (asked again), then computed (every kept answer dropped first), in a
    child process."""
    from pboss.bootstrap import register_kinds
    from pboss.inventory.memory.store import MemoryStore

    register_kinds()
    started, cpu = time.perf_counter(), time.process_time()
    store = MemoryStore(data_dir=data)
    opened, opened_cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_open = _rss_now_mb()
    olts = sorted(i for i in store.scan_ids("OLT", "self"))
    runs: dict[str, list[float]] = {"cold": [], "warm": [], "computed": []}
    cpu_runs: dict[str, list[float]] = {"cold": [], "warm": [], "computed": []}
    services = []
    for phase in ("cold", "warm", "computed"):
        if phase == "computed":
            store._riders_cache.clear()
        for olt in olts:
            t, c = time.perf_counter(), time.process_time()
            answer = store.riders([olt])
            runs[phase].append((time.perf_counter() - t) * 1000)
            cpu_runs[phase].append((time.process_time() - c) * 1000)
            services.append(answer.totals.services)
    out = {"open_s": opened, "open_cpu_s": opened_cpu, "rss_after_open_mb": rss_open}
    out["load_average_at_open"] = os.getloadavg()[0]  # a shared machine: wall time follows it
    out |= {"rss_after_riders_mb": _rss_now_mb(), "rss_peak_mb": _rss_mb()}
    out["olts"] = len(olts)
    out["services_per_olt_p50"] = statistics.median(services)
    for phase, ms in runs.items():
        out[f"riders_{phase}_p50_ms"] = statistics.median(ms)
        out[f"riders_{phase}_p99_ms"] = _pct(ms, 0.99)
        out[f"riders_{phase}_cpu_p50_ms"] = statistics.median(cpu_runs[phase])
    counts = store.counts()
    out["nodes"] = sum(v for k, v in counts.items() if not k.startswith("edge:"))
    out["edges"] = sum(v for k, v in counts.items() if k.startswith("edge:"))
    try:
        from pboss.inventory.memory import snapshot

        out["open_steps_s"] = dict(snapshot.last_read)
        out["open_steps_cpu_s"] = dict(snapshot.last_read_cpu)
    except ImportError:  # a revision before the snapshot of rows
        pass
    out["memory_mb"] = memory_breakdown(store)
    store.durable.close(compact=False)  # type: ignore[union-attr]
    return out


def memory_breakdown(store: Any) -> dict[str, float]:
    """MB of Python objects per part of the store, each object counted once, in this order
    (an id string is counted with the nodes): nodes (keys, attribute dicts, rows or elements),
    the adjacency (edges and their dicts), indexes, history, events and listeners, kept riders
    answers. Walks every object: run after the timed steps."""
    import gc

    seen: set[int] = set()

    def size(*roots: Any) -> float:
        total, stack = 0, list(roots)
        while stack:
            obj = stack.pop()
            if id(obj) in seen or isinstance(obj, type):
                continue
            seen.add(id(obj))
            total += sys.getsizeof(obj)
            stack.extend(gc.get_referents(obj))
        return total / 1e6

    graph = vars(store.graph)
    state = vars(store)
    return {
        "nodes": size(graph["_node"]),
        "adjacency_and_edges": size(graph["_succ"], graph["_pred"]),
        "indexes": size(state["_by_kind"], state["_by_site"]),
        "history": size(state["_history"], state["_history_of"]),
        "events_and_listeners": size(state["events"], state["listeners"]),
        "kept_riders": size(state["_riders_cache"]),
    }


# ---- 3. the journal's cost on writes -------------------------------------------------------------


def _network(data: Path | None) -> Any:
    from pboss.inventory.demo import demo_network
    from pboss.inventory.memory.store import MemoryStore

    store = MemoryStore(data_dir=data)
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="bench", reason="reference network")
    return store


def writes(count: int, rounds: int) -> dict[str, float]:
    """Status flips and reservations per second, with and without the journal, in turns."""
    from pboss.provisioning.service import ProvisioningService
    from pboss.provisioning.settings import ProvisioningSettings
    from tests.provisioning.conftest import ftth

    tmp = Path(tempfile.mkdtemp(prefix="pboss-bench-journal-"))
    stores = {"journal": _network(tmp / "data"), "memory": _network(None)}
    services = {
        k: ProvisioningService(s, settings=ProvisioningSettings(links_cache_seconds=0))
        for k, s in stores.items()
    }
    rates: dict[str, list[float]] = {}
    order_no = 0
    for r in range(rounds):
        for mode in ("journal", "memory") if r % 2 == 0 else ("memory", "journal"):
            store = stores[mode]
            started = time.perf_counter()
            for i in range(count):
                status = "maintenance" if i % 2 == 0 else "available"
                store.set_status("NE-A/E1-1", status, actor="bench", reason="flip")
            rates.setdefault(f"flips_{mode}", []).append(count / (time.perf_counter() - started))
            svc = services[mode]
            n = max(1, count // 5)
            started = time.perf_counter()
            for _ in range(n):
                order_no += 1
                svc.submit_order(ftth(f"B{order_no}", customer=f"H-B{order_no}"))
            rates.setdefault(f"orders_{mode}", []).append(n / (time.perf_counter() - started))
    out = {k: statistics.median(v) for k, v in rates.items()}
    out["flips_ratio"] = out["flips_journal"] / out["flips_memory"]
    out["orders_ratio"] = out["orders_journal"] / out["orders_memory"]
    stores["journal"].durable.close(compact=False)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def main() -> None:
    """Run the three steps and print one JSON object of figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", default=".pboss/bench-embedded")
    parser.add_argument("--writes", type=int, default=1000, help="status flips per block")
    parser.add_argument("--rounds", type=int, default=4, help="blocks per mode")
    parser.add_argument("--skip-load", action="store_true", help="reuse the data directory")
    parser.add_argument("--no-compare", action="store_true", help="skip the load without a journal")
    parser.add_argument("--open-only", help=argparse.SUPPRESS)  # the child of step 2
    args = parser.parse_args()
    if args.open_only:
        print(json.dumps(open_and_ask(Path(args.open_only))))
        return
    from pboss.bootstrap import register_kinds
    from pboss.loaders.generator import generate

    register_kinds()
    work = Path(args.work)
    bundle, data = work / f"{args.scale}-bundle", work / f"{args.scale}-data"
    result: dict[str, Any] = {"scale": args.scale}
    if not (bundle / "manifest.json").exists():
        started = time.perf_counter()
        generate(bundle, args.scale, args.seed, overwrite=True)
        print(f"generated {args.scale} in {time.perf_counter() - started:.0f} s", flush=True)
    if not args.skip_load:
        result |= load(bundle, data, not args.no_compare)
        print(f"loaded: {json.dumps(result)}", flush=True)
    child = subprocess.run(
        [sys.executable, __file__, "--open-only", str(data)],
        check=True,
        capture_output=True,
        text=True,
    )
    result |= json.loads(child.stdout.strip().splitlines()[-1])
    print(f"opened: {json.dumps(result)}", flush=True)
    result |= writes(args.writes, args.rounds)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
