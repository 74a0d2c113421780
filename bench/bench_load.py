"""Load benchmark: the pboss loader beside a bare `UNWIND … MERGE` loop, same Neo4j, same rows.

    python bench/bench_load.py                      # small and medium, local Neo4j on port 7690
    python bench/bench_load.py --uri bolt://h:7687  # an existing Neo4j (its data is deleted!)
    python bench/bench_load.py --scales medium --repeat 3

For each scale it generates the metro once (cached under --work), then, `--repeat` times and in
alternation, clears the database and loads the bundle with: `baseline` (read the NDJSON, batches
of --batch-size rows per kind and type, `UNWIND $rows MERGE … SET n += r.props`, no validation),
and `loader` (pboss.loaders: pass 1 validates everything, pass 2 writes what it accepted).
Each run is its own
process, so peak memory (ru_maxrss) is that run's alone. Medians are printed with the ratio. First,
--warmup untimed runs of each mode on the first scale warm the JVM up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: `loader-ram` is the loader with its validation index kept whole in memory (never spilled to
#: disk): what flat memory costs, in the same run (`--modes baseline loader loader-ram`).
MODES = ("baseline", "loader", "loader-ram")


# ---- one measured run (a child process) -------------------------------------------------------


def _write(session: Any, query: str, rows: list[dict[str, Any]]) -> int:
    """One batch in one managed write transaction; returns the rows written."""
    session.execute_write(lambda tx: tx.run(query, rows=rows).consume())
    return len(rows)


def _baseline(bundle: Path, uri: str, batch: int) -> int:
    """The bare loop: stream the files, UNWIND batches of rows into MERGE, no validation."""
    from neo4j import GraphDatabase

    from pboss.inventory.model import KINDS
    from pboss.loaders import jsonio
    from pboss.loaders.native import discover

    written = 0
    with GraphDatabase.driver(uri, auth=_auth()) as driver, driver.session() as session:
        for f in discover([bundle]):
            if f.is_edges:
                query = (
                    "UNWIND $rows AS r MATCH (a:Entity {id: r.src}) MATCH (b:Entity {id: r.dst}) "
                    f"MERGE (a)-[e:{f.edge_type}]->(b) SET e += r.props"
                )
            else:
                assert f.kind is not None
                labels = f"{KINDS[f.kind].category.value}:{f.kind}"
                query = (
                    f"UNWIND $rows AS r MERGE (n:Entity {{id: r.id}}) SET n += r.props, n:{labels}"
                )
            rows: list[dict[str, Any]] = []

            with f.path.open("rb") as fh:
                for line in fh:
                    d = jsonio.loads(line)
                    if f.is_edges:
                        rows.append({"src": d.pop("src"), "dst": d.pop("dst"), "props": d})
                    else:
                        rows.append({"id": d["id"], "props": d})
                    if len(rows) >= batch:
                        written += _write(session, query, rows)
                        rows = []
            if rows:
                written += _write(session, query, rows)
    return written


def _loader(
    bundle: Path, uri: str, batch: int, index_entries: int | None = None
) -> tuple[int, dict[str, float]]:
    """The pboss loader, through Neo4jStore."""
    from pboss.inventory.neo4j.store import Neo4jStore
    from pboss.loaders import Loader, LoadOptions, NativeSource

    store = Neo4jStore(uri, auth=_auth())
    options = LoadOptions(batch_size=batch, index_entries=index_entries)
    try:
        report = Loader(store, options).run(NativeSource([bundle]))
    finally:
        store.close()
    if not report.validation.ok or report.result is None:
        raise SystemExit(f"the loader refused the bundle: {report.render()}")
    return report.elements, report.seconds


def child(mode: str, bundle: Path, uri: str, batch: int) -> None:
    """Run one load and print one JSON line: elements, seconds, CPU seconds, peak RSS."""
    started = time.perf_counter()
    phases: dict[str, float] = {}
    if mode == "baseline":
        elements = _baseline(bundle, uri, batch)
    elif mode == "loader-ram":
        elements, phases = _loader(bundle, uri, batch, index_entries=2**62)
    else:
        elements, phases = _loader(bundle, uri, batch)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "mode": mode,
                "elements": elements,
                "seconds": seconds,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "maxrss_mb": usage.ru_maxrss / 1024,
                "phases": phases,
            }
        )
    )


# ---- the driver (parent process) --------------------------------------------------------------


def _bundle(work: Path, scale: str, seed: int) -> Path:
    """The generated bundle of a scale and seed, made once and cached."""
    from pboss.loaders.generator import generate

    out = work / f"{scale}-{seed}"
    manifest = out / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text(encoding="utf-8")).get("generator", {})
        if meta.get("scale") == scale and meta.get("seed") == seed:
            return out
    t = time.perf_counter()
    summary = generate(out, scale, seed, overwrite=True)
    print(
        f"generated {scale}: {summary.nodes:,} nodes, {summary.edges:,} edges "
        f"in {time.perf_counter() - t:.0f}s",
        flush=True,
    )
    return out


def _clear(uri: str) -> dict[str, int]:
    """Empty the database (schema kept); returns what it held."""
    from pboss.inventory.neo4j.store import Neo4jStore

    # also ensures the constraint and indexes both runs rely on
    store = Neo4jStore(uri, auth=_auth())
    try:
        counts = store.counts()
        store.clear()
    finally:
        store.close()
    return counts


def _run(mode: str, bundle: Path, uri: str, batch: int) -> dict[str, Any]:
    """One measured run in its own process; its JSON result."""
    cmd = [sys.executable, __file__, "--child", mode, "--bundle", str(bundle), "--uri", uri,
           "--batch-size", str(batch)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _auth() -> tuple[str, str] | None:
    """The Neo4j login from NEO4J_USER/NEO4J_PASSWORD (set by `_uri` for a local Neo4j, and
    inherited by the child processes), or None."""
    user = os.environ.get("NEO4J_USER")
    return (user, os.environ.get("NEO4J_PASSWORD", "")) if user else None


def _uri(args: argparse.Namespace) -> str:
    """The Neo4j to use: --uri, NEO4J_URI, else a local one started here."""
    if args.uri:
        return args.uri
    if os.environ.get("NEO4J_URI"):
        return os.environ["NEO4J_URI"]
    from pboss.inventory.neo4j import local as neo4j_local

    print(f"starting a local Neo4j in {args.home} on port {args.port} ...", flush=True)
    uri = neo4j_local.start(
        Path(args.home), port=args.port, heap=args.heap, pagecache=args.pagecache
    )
    login = neo4j_local.credentials(Path(args.home))
    if login is not None:  # the launcher runs with auth: its login, for this run and children
        os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"] = login
    return uri


def main(argv: list[str] | None = None) -> None:
    """Parse arguments; run one child, or the whole comparison."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scales", nargs="+", default=["small", "medium"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=2, help="runs per mode (medians are shown)")
    p.add_argument(
        "--warmup", type=int, default=1, help="untimed runs per mode first (a fresh JVM is slow)"
    )
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--uri", help="Neo4j to use (default NEO4J_URI, else a local one)")
    p.add_argument("--home", default=str(ROOT / ".pboss" / "bench-neo4j"))
    p.add_argument("--port", type=int, default=7690)
    p.add_argument("--heap", default="2g")
    p.add_argument("--pagecache", default="1g")
    p.add_argument("--work", default=str(ROOT / ".pboss" / "bench-data"))
    p.add_argument(
        "--modes",
        nargs="+",
        choices=list(MODES),
        default=["baseline", "loader"],
        help="what to run (the first is the ratios' base)",
    )
    p.add_argument("--child", choices=list(MODES), help=argparse.SUPPRESS)
    p.add_argument("--bundle", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, Path(args.bundle), args.uri, args.batch_size)
        return
    uri = _uri(args)
    modes = list(dict.fromkeys(args.modes))
    results: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    first = _bundle(Path(args.work), args.scales[0], args.seed)
    for _ in range(args.warmup):
        for mode in modes:
            _clear(uri)
            _run(mode, first, uri, args.batch_size)
    for scale in args.scales:
        bundle = _bundle(Path(args.work), scale, args.seed)
        for rep in range(args.repeat):
            for mode in modes:
                _clear(uri)
                r = _run(mode, bundle, uri, args.batch_size)
                graph = _clear(uri)
                r["graph"] = sum(graph.values())
                results[scale][mode].append(r)
                rate = r["elements"] / r["seconds"]
                phases = " ".join(f"{k} {v:.1f}s" for k, v in r["phases"].items())
                print(
                    f"{scale} #{rep + 1} {mode:10s} {r['elements']:>9,} elements in "
                    f"{r['seconds']:6.1f}s = {rate:>8,.0f}/s  cpu {r['cpu_seconds']:6.1f}s  "
                    f"peak {r['maxrss_mb']:6.0f} MB  {phases}",
                    flush=True,
                )
    _table(results, modes)


def _table(results: dict[str, dict[str, list[dict[str, Any]]]], modes: list[str]) -> None:
    """Print medians, ratios to the baseline and peak memory per scale."""
    print()
    head = f"{'scale':8s} {'elements':>10s}" + "".join(f" {m + ' el/s':>16s}" for m in modes)
    head += "".join(f" {m + '/' + modes[0][:4]:>14s}" for m in modes[1:])
    head += "".join(f" {m + ' MB':>12s}" for m in modes)
    print(head)
    for scale, by_mode in results.items():
        rate = {
            m: statistics.median(r["elements"] / r["seconds"] for r in by_mode[m]) for m in modes
        }
        peak = {m: max(r["maxrss_mb"] for r in by_mode[m]) for m in modes}
        elements = by_mode[modes[0]][0]["elements"]
        line = f"{scale:8s} {elements:>10,}" + "".join(f" {rate[m]:>16,.0f}" for m in modes)
        line += "".join(f" {rate[m] / rate[modes[0]]:>14.2f}" for m in modes[1:])
        line += "".join(f" {peak[m]:>12.0f}" for m in modes)
        print(line)
        graphs = {m: {r["graph"] for r in by_mode[m]} for m in modes}
        if len({g for s in graphs.values() for g in s}) != 1:
            print(f"  note: graph sizes differ between modes: {graphs}")


if __name__ == "__main__":
    main()
