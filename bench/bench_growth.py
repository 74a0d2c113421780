"""Growth benchmark: `medium` and `large` bulk-imported into Neo4j, then read, in one run.

    python bench/bench_growth.py                          # medium and large, local Neo4j, port 7693
    python bench/bench_growth.py --scales small medium    # a quicker look
    python bench/bench_growth.py --baseline-scales none   # without the bare UNWIND baseline

For each scale it generates the metro once (cached under --work, shared with bench_load.py),
gives the launcher's instance (--home) a fresh empty database, and runs `pboss neo4j import`'s
`initial_import` in a child process (peak RSS its own): pass 1, CSV write, the importer (stop,
import, swap), schema (start, constraints and indexes online) and the check, each timed. Then
it samples --samples targets per operation and times, one client, through `Neo4jStore`:
riders of an OLT (first page of 50 and the totals), the trace of a circuit, the availability
(site view) of a site with a stage-2 splitter; p50 and p99 per scale, and the large/medium
ratio, riders also per rider (ms divided by the OLT's rider count).

The bare UNWIND baseline (bench_load.py's loop: read the NDJSON, `UNWIND $rows MERGE ... SET`,
no validation) runs on --baseline-scales into an empty database in the same run, so the import
step's elements/s can be set against it (the issue's goal: >= 5x).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OPS = ("riders", "trace", "availability")
TARGETS = {
    "riders": "MATCH (o:OLT) RETURN o.id AS id ORDER BY id",
    "trace": "MATCH (c:Circuit)-[:ROUTED_OVER]->() RETURN DISTINCT c.id AS id ORDER BY id",
    "availability": """MATCH (s:Entity) WHERE s:Splitter AND s.stage = 2
                       RETURN DISTINCT s.site AS id ORDER BY id""",
}


# ---- children: one import, one baseline load ---------------------------------------------------


def child_import(
    bundle: Path, home: Path, off_heap: str | None, heap: str, workers: int | None
) -> None:
    """Bulk-import the bundle into `home`'s empty database; print one JSON line (and pass 1's
    progress on stderr, so a run stopped part-way still shows how far it got)."""
    from pboss.bootstrap import register_kinds
    from pboss.loaders.initial import initial_import
    from pboss.loaders.progress import PlainProgress

    register_kinds()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    report = initial_import(
        [bundle],
        home,
        max_off_heap=off_heap,
        importer_heap=heap,
        workers=workers or 1,
        progress=PlainProgress(every=10),
    )
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    written = report.written
    elements = sum(written.nodes_by_kind.values()) + sum(written.edges_by_type.values())
    print(
        json.dumps(
            {
                "elements": elements,
                "nodes": sum(written.nodes_by_kind.values()),
                "edges": sum(written.edges_by_type.values()),
                "seconds": seconds,
                "phases": report.seconds,
                "patched": report.settled.patched if report.settled else None,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "maxrss_mb": usage.ru_maxrss / 1024,
                # pass 1's workers and the importer's JVM (the largest of them)
                "children_cpu_seconds": children.ru_utime + children.ru_stime,
                "children_maxrss_mb": children.ru_maxrss / 1024,
                "load_average": [load_before, os.getloadavg()[0]],
            }
        )
    )


def child_baseline(bundle: Path, uri: str, batch: int) -> None:
    """bench_load.py's bare UNWIND loop into the (empty) database; print one JSON line."""
    import bench_load

    from pboss.bootstrap import register_kinds

    register_kinds()  # kinds other packages add (Crew): the bundle has their files
    started = time.perf_counter()
    elements = bench_load._baseline(bundle, uri, batch)
    seconds = time.perf_counter() - started
    print(json.dumps({"elements": elements, "seconds": seconds}))


class Stopped(Exception):
    """A child ran past its time limit; `progress` is the last progress line it printed."""

    def __init__(self, seconds: float, progress: str):
        super().__init__(f"stopped after {seconds:.0f} s at {progress!r}")
        self.seconds = seconds
        self.progress = progress


def _child(args: list[str], limit: float | None = None) -> dict[str, Any]:
    """Run this script as a child with `args`; its last stdout line as JSON; Stopped when it
    runs past `limit` seconds (killed, with its whole process group)."""
    cmd = [sys.executable, __file__, *args]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        lines = [ln for ln in err.splitlines() if ln.startswith("[")]
        raise Stopped(time.perf_counter() - started, lines[-1] if lines else "") from None
    if proc.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{out[-2000:]}\n{err[-4000:]}")
    return json.loads(out.strip().splitlines()[-1])


# ---- the instance ------------------------------------------------------------------------------


def _fresh_database(home: Path, port: int, heap: str, pagecache: str) -> str:
    """Stop the instance, delete its pboss database (store and logs), start it: empty, with
    pboss's constraints and indexes."""
    from pboss.inventory.neo4j import importer, local

    local.stop(home)
    data = home / local.DB_DIR / "data"
    for sub in ("databases", "transactions"):
        shutil.rmtree(data / sub / importer.DATABASE, ignore_errors=True)
    uri = local.start(home, port=port, heap=heap, pagecache=pagecache, timeout=900)
    from pboss.inventory.neo4j.store import Neo4jStore

    # the constraint and indexes: the baseline's MERGE on Entity.id needs them (the import
    # replaces the database and its schema anyway)
    Neo4jStore(uri, local.credentials(home)).close()
    login = local.credentials(home)
    if login is not None:  # for bench_load's baseline in the child
        os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"] = login
    return uri


def _bundle(work: Path, scale: str, seed: int) -> Path:
    """The generated bundle (bench_load.py's cache)."""
    import bench_load

    return bench_load._bundle(work, scale, seed)


# ---- reads -------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def measure_reads(uri: str, auth: Any, samples: int, seed: int) -> dict[str, Any]:
    """p50/p99 ms of riders, trace and availability over sampled targets (one client)."""
    from pboss.inventory.neo4j.store import Neo4jStore

    store = Neo4jStore(uri, auth)
    out: dict[str, Any] = {}
    try:
        rng = random.Random(seed)
        for op in OPS:
            ids = [r["id"] for r in store.read(f"bench.targets.{op}", TARGETS[op])]
            picked = [rng.choice(ids) for _ in range(samples)] if ids else []
            for t in picked[: min(10, len(picked))]:  # warm the page cache and the plans
                _call(store, op, t)
            times, per_rider = [], []
            for t in picked:
                started = time.perf_counter()
                got = _call(store, op, t)
                ms = (time.perf_counter() - started) * 1000
                times.append(ms)
                if op == "riders":
                    riders = got.totals.services or 1
                    per_rider.append(ms / riders)
            if not times:
                continue
            out[op] = {
                "targets": len(ids),
                "p50": statistics.median(times),
                "p99": _percentile(times, 99),
            }
            if per_rider:
                out[op]["per_rider_p50"] = statistics.median(per_rider)
                out[op]["per_rider_p99"] = _percentile(per_rider, 99)
    finally:
        store.close()
    return out


def _call(store: Any, op: str, target: str) -> Any:
    """One read as the API asks it."""
    if op == "riders":
        return store.riders([target], first=50)
    if op == "trace":
        return store.trace(target)
    return store.site_view(target)


# ---- the run -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Parse arguments; run a child, or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scales", nargs="+", default=["medium", "large"])
    p.add_argument("--baseline-scales", nargs="+", default=["medium"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--samples", type=int, default=200, help="targets timed per operation")
    p.add_argument("--batch-size", type=int, default=5000, help="the baseline's rows per batch")
    p.add_argument("--home", default=str(ROOT / ".pboss" / "bench-growth-neo4j"))
    p.add_argument("--port", type=int, default=7693)
    p.add_argument("--heap", default="4g")
    p.add_argument("--pagecache", default="4g")
    p.add_argument("--work", default=str(ROOT / ".pboss" / "bench-data"))
    p.add_argument("--importer-heap", default="2g")
    p.add_argument("--importer-off-heap", default="4g", help="the importer's off-heap cap")
    p.add_argument("--workers", type=int, help="pass 1's processes (default 1)")
    p.add_argument(
        "--limit",
        type=float,
        help="stop an import after this many seconds and estimate it from how far pass 1 got "
        "and the per-element rates of the scale before it (said so in the output); not the "
        "first scale's, which is that base",
    )
    p.add_argument("--child", choices=["import", "baseline"], help=argparse.SUPPRESS)
    p.add_argument("--bundle", help=argparse.SUPPRESS)
    p.add_argument("--uri", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    home = Path(args.home).resolve()
    if args.child == "import":
        child_import(
            Path(args.bundle), home, args.importer_off_heap, args.importer_heap, args.workers
        )
        return
    if args.child == "baseline":
        child_baseline(Path(args.bundle), args.uri, args.batch_size)
        return
    from pboss.inventory.neo4j import local

    baselines = [s for s in args.baseline_scales if s != "none"]
    results: dict[str, dict[str, Any]] = {}
    for scale in dict.fromkeys([*args.scales, *baselines]):
        bundle = _bundle(Path(args.work), scale, args.seed)
        results[scale] = {}
        if scale in baselines:
            uri = _fresh_database(home, args.port, args.heap, args.pagecache)
            base = _child(["--child", "baseline", "--bundle", str(bundle), "--uri", uri,
                           "--batch-size", str(args.batch_size)])  # fmt: skip
            results[scale]["baseline"] = base
            print(f"{scale} baseline: {base['elements']:,} elements in {base['seconds']:.1f} s = "
                  f"{base['elements'] / base['seconds']:,.0f}/s", flush=True)  # fmt: skip
        if scale not in args.scales:
            continue
        _fresh_database(home, args.port, args.heap, args.pagecache)
        cmd = ["--child", "import", "--bundle", str(bundle), "--home", str(home),
               "--importer-heap", args.importer_heap,
               "--importer-off-heap", args.importer_off_heap]  # fmt: skip
        if args.workers is not None:
            cmd += ["--workers", str(args.workers)]
        try:
            # the limit is for the scales after one measured to the end (the estimate's base)
            measured = any("import" in r for r in results.values())
            imp = _child(cmd, args.limit if measured else None)
        except Stopped as stop:
            results[scale]["stopped"] = _stopped(stop, bundle, results)
            print(f"{scale} import: {results[scale]['stopped']['text']}", flush=True)
            continue
        results[scale]["import"] = imp
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in imp["phases"].items())
        print(f"{scale} import: {imp['nodes']:,} nodes + {imp['edges']:,} edges in "
              f"{imp['seconds']:.1f} s end to end ({phases}); pboss peak RSS "
              f"{imp['maxrss_mb']:.0f} MB, largest child (pass 1 worker or importer JVM) "
              f"{imp['children_maxrss_mb']:.0f} MB; CPU {imp['cpu_seconds']:.0f} s + children "
              f"{imp['children_cpu_seconds']:.0f} s; load average "
              f"{imp['load_average'][0]:.1f} -> {imp['load_average'][1]:.1f}",
              flush=True)  # fmt: skip
        info = local.status(home) or {}
        reads = measure_reads(str(info["uri"]), local.credentials(home), args.samples, args.seed)
        results[scale]["reads"] = reads
        for op, r in reads.items():
            extra = ""
            if "per_rider_p50" in r:
                extra = f"; per rider p50 {r['per_rider_p50']:.3f} ms p99 {r['per_rider_p99']:.3f}"
            head = f"{scale} {op}: p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms"
            print(f"{head} over {args.samples} of {r['targets']:,} targets{extra}", flush=True)
    _summary(results, args.scales, baselines)


def _manifest_elements(bundle: Path) -> tuple[int, int]:
    """(rows, bytes) of a bundle, from its manifest's row counts and its files' sizes."""
    meta = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    rows = sum(int(f.get("rows") or 0) for f in meta.get("files", []))
    size = sum(p.stat().st_size for p in bundle.rglob("*.ndjson"))
    return rows, size


def _stopped(stop: Stopped, bundle: Path, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a stopped import measured (pass 1's bytes and rows so far) and an estimate of the
    whole from it and the per-element rates of the last scale measured to the end."""
    rows, size = _manifest_elements(bundle)
    out: dict[str, Any] = {"seconds": stop.seconds, "progress": stop.progress, "rows": rows}
    got = re.search(r"rows, ([\d.]+) (B|KB|MB|GB) ", stop.progress)
    text = f"stopped after {stop.seconds:.0f} s, pass 1 at {stop.progress or 'its start'}"
    if got and float(got.group(1)) > 0:
        unit = 1024 ** ("B", "KB", "MB", "GB").index(got.group(2))
        done = float(got.group(1)) * unit / size
        out["pass1_fraction"] = done
        out["pass1_estimate"] = pass1 = stop.seconds / done
        text += f"; pass 1 extrapolated: {pass1:.0f} s for {size / 2**20:,.0f} MB"
        measured = [r["import"] for r in results.values() if "import" in r]
        if measured:
            ref = measured[-1]
            ratio = rows / ref["elements"]
            rest = {  # the server's stop and start do not grow with the graph
                k: v * (ratio if k in ("import", "schema", "check") else 1)
                for k, v in ref["phases"].items()
                if k not in ("validate", "csv")
            }
            out["rest_estimate"] = rest
            total = pass1 + sum(rest.values())
            out["estimate"] = total
            text += (
                f"; import, schema and check scaled by rows from the scale before (x{ratio:.1f}), "
                f"stop and start as measured there: "
                f"{sum(rest.values()):.0f} s; ESTIMATED end to end {total:.0f} s (not measured)"
            )
    out["text"] = text
    return out


def _summary(results: dict[str, dict[str, Any]], scales: list[str], baselines: list[str]) -> None:
    """The table: load phases, the import step against the baseline, reads and their ratios."""
    print()
    for scale in scales:
        if "import" not in results[scale]:
            print(f"{scale:7s} {results[scale]['stopped']['text']}")
            continue
        imp = results[scale]["import"]
        ph = imp["phases"]
        rate = imp["elements"] / ph["import"]
        line = (f"{scale:7s} end to end {imp['seconds']:6.1f} s | pass 1 {ph['validate']:6.1f} s, "
                f"csv {ph['csv']:5.1f} s, stop {ph['stop']:4.1f} s, import {ph['import']:6.1f} s "
                f"({rate:,.0f} el/s), start {ph['start']:5.1f} s, schema {ph['schema']:5.1f} s, "
                f"check {ph['check']:5.1f} s")  # fmt: skip
        for base_scale in baselines:
            base = results[base_scale]["baseline"]
            base_rate = base["elements"] / base["seconds"]
            line += f" | import step / {base_scale} UNWIND baseline x{rate / base_rate:.1f}"
        print(line)
    if len(scales) >= 2:
        a, b = scales[0], scales[-1]
        for op in OPS:
            ra = results[a].get("reads", {}).get(op)
            rb = results[b].get("reads", {}).get(op)
            if not ra or not rb:
                continue
            line = (f"{op:12s} {a} p50 {ra['p50']:.2f} / p99 {ra['p99']:.2f} ms, {b} p50 "
                    f"{rb['p50']:.2f} / p99 {rb['p99']:.2f} ms: {b}/{a} p50 x"
                    f"{rb['p50'] / ra['p50']:.2f}")  # fmt: skip
            if "per_rider_p50" in ra:
                line += (f"; per rider p50 {ra['per_rider_p50']:.3f} vs "
                         f"{rb['per_rider_p50']:.3f} ms: x"
                         f"{rb['per_rider_p50'] / ra['per_rider_p50']:.2f}")  # fmt: skip
            print(line)
    print(json.dumps(results, indent=1, default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
