"""Two revisions' riders latency against raw Cypher, interleaved in one run.

A change worth a few tenths of a millisecond is lost in this machine's spells (the raw query alone
moves between 4 and 6 ms from one minute to the next), so this serves the riders operation from two
checkouts side by side on one Neo4j and has one client take turns, request by request, between raw
Cypher (by `execute_query` and by auto-commit), revision A and revision B on the same target (so
all four meet the same spells), printing each round's p50s, the medians of the rounds' p50 with
their ratios to both raw paths, and the median of the rounds' B - A.

    python bench/bench_api_pair.py 9967f97 HEAD               # local Neo4j, network loaded before
    python bench/bench_api_pair.py main~3 . --rounds 10 --seconds 3

A revision is a git revision checked out into a temporary worktree, or `.` for the working tree.
`--env-a` / `--env-b NAME=VALUE` set a variable for one side's server only, so one revision can be
priced against itself with a setting changed (`. . --env-a PBOSS_GRAPHQL_THREADS=0`).
The network must already be loaded (run `bench_api.py` once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_api as b  # the bench's own helpers, beside this file

from pboss.inventory.neo4j import local as neo4j_local

ROOT = b.ROOT


def checkout(revision: str, into: Path) -> Path:
    """The source tree of a revision: the working tree for `.`, else a detached worktree."""
    if revision == ".":
        return ROOT
    subprocess.run(
        ["git", "worktree", "add", "--detach", "-f", str(into), revision],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return into


async def _one_round(
    driver: Any, conns: dict[str, b._Conn], targets: list[str], seconds: float, rng: random.Random
) -> dict[str, float]:
    """For `seconds`, one request after another: raw Cypher (by `execute_query` and by
    auto-commit), A and B in a shuffled order each cycle, on the same target; the p50 ms of each."""
    lat: dict[str, list[float]] = {"raw": [], "auto": [], "A": [], "B": []}
    auto = b.AutoCommit(driver)
    paths = list(lat)
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        target = rng.choice(targets)
        payload = json.dumps(b.body("riders", target)).encode()
        rng.shuffle(paths)
        for path in paths:
            started = time.perf_counter()
            if path == "raw":
                b.raw_riders(driver, target)
            elif path == "auto":
                b.raw_riders(auto, target)
            else:
                status, data = await conns[path].post("/graphql", payload)
                if not b.answered(status, data):
                    raise RuntimeError(f"{path} failed on {target}: {status} {data[:200]!r}")
            lat[path].append(time.perf_counter() - started)
    return {k: statistics.median(v) * 1000 for k, v in lat.items()}


async def _interleave(args: argparse.Namespace, driver: Any, urls: dict[str, str]) -> None:
    targets = [r["id"] for r in driver.execute_query(b.TARGETS["riders"]).records]
    rng = random.Random(1)
    targets = rng.sample(targets, min(200, len(targets)))
    conns = {name: b._Conn(url) for name, url in urls.items()}
    await _one_round(driver, conns, targets, 3, rng)  # warm both servers and the driver
    p50: dict[str, list[float]] = {"raw": [], "auto": [], "A": [], "B": []}
    for r in range(args.rounds):
        for path, ms in (await _one_round(driver, conns, targets, args.seconds, rng)).items():
            p50[path].append(ms)
        print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1]:.2f}" for k, v in p50.items()))
    for conn in conns.values():
        conn.close()
    med = {k: statistics.median(v) for k, v in p50.items()}
    print(
        f"medians of the rounds' p50: raw {med['raw']:.2f} ms, "
        f"A ({args.a}) {med['A']:.2f} ms x{med['A'] / med['raw']:.2f}, "
        f"B ({args.b}) {med['B']:.2f} ms x{med['B'] / med['raw']:.2f}"
    )
    print(
        f"against raw by auto-commit ({med['auto']:.2f} ms): A x{med['A'] / med['auto']:.2f}, "
        f"B x{med['B'] / med['auto']:.2f}"
    )
    paired = sorted(bb - aa for aa, bb in zip(p50["A"], p50["B"], strict=True))
    faster = sum(d < 0 for d in paired)
    print(
        f"B - A by round: median {statistics.median(paired):+.2f} ms "
        f"(B faster in {faster} of {len(paired)} rounds)"
    )


def interleave(args: argparse.Namespace, driver: Any, urls: dict[str, str]) -> None:
    """Rounds of raw Cypher, A and B taking turns request by request (so a spell of the machine
    falls on all three alike), printed as they go."""
    asyncio.run(_interleave(args, driver, urls))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="a git revision, or . for the working tree")
    parser.add_argument("b", help="another")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="per path and round")
    for side in ("a", "b"):
        parser.add_argument(
            f"--env-{side}",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"an environment variable for {side.upper()}'s server only (repeatable), e.g. "
            "PBOSS_GRAPHQL_THREADS=0 to price a setting with the same revision on both sides",
        )
    b.add_neo4j_options(parser)
    args = parser.parse_args(argv)
    uri, auth, started_local = b._endpoint(args)
    driver = GraphDatabase.driver(
        uri, auth=auth, notifications_disabled_categories=["UNRECOGNIZED"]
    )
    servers: list[subprocess.Popen] = []
    worktrees: list[Path] = []
    try:
        with tempfile.TemporaryDirectory(prefix="pboss-pair-") as tmp:
            urls = {}
            sides = (("A", args.a, args.env_a), ("B", args.b, args.env_b))
            for name, revision, env in sides:
                source = checkout(revision, Path(tmp) / name)
                if source != ROOT:
                    worktrees.append(source)
                extra = dict(item.split("=", 1) for item in env)
                proc, urls[name] = b.start_server(uri, auth, 1, source, extra)
                servers.append(proc)
            interleave(args, driver, urls)
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=30)
        for tree in worktrees:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True
            )
        driver.close()
        if started_local and not args.keep:
            neo4j_local.stop(Path(args.home))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
