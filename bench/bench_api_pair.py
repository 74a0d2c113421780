"""Two revisions' riders latency against raw Cypher, interleaved in one run.

A change worth a few tenths of a millisecond is lost in this machine's spells (the raw query alone
moves between 4 and 6 ms from one minute to the next), so this serves the riders operation from two
checkouts side by side on one Neo4j and alternates rounds of raw Cypher, revision A and revision B
(one client each), printing every round and the medians of the rounds' p50 with their ratios.

    python bench/bench_api_pair.py 9967f97 HEAD               # local Neo4j, network loaded before
    python bench/bench_api_pair.py main~3 . --rounds 10 --seconds 3

A revision is a git revision checked out into a temporary worktree, or `.` for the working tree.
The network must already be loaded (run `bench_api.py` once).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_api as b  # the bench's own helpers, beside this file

from pboss import neo4j_local

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


def interleave(args: argparse.Namespace, driver: Any, urls: dict[str, str]) -> None:
    """Rounds of raw Cypher, A and B (A and B swapping places every round), printed as they go."""
    targets = [r["id"] for r in driver.execute_query(b.TARGETS["riders"]).records]
    targets = random.Random(1).sample(targets, min(200, len(targets)))
    b.same_collector_as_the_server()
    b.run_cypher("riders", driver, targets, 1, 2)
    for url in urls.values():
        b.run_http("riders", url, targets, 1, 2)
    p50: dict[str, list[float]] = {"raw": [], "A": [], "B": []}
    for r in range(args.rounds):
        for path in ["raw", "A", "B"] if r % 2 == 0 else ["raw", "B", "A"]:
            if path == "raw":
                level = b.run_cypher("riders", driver, targets, 1, args.seconds)
            else:
                level = b.run_http("riders", urls[path], targets, 1, args.seconds)
            p50[path].append(level.p50_ms)
        print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1]:.2f}" for k, v in p50.items()))
    med = {k: statistics.median(v) for k, v in p50.items()}
    print(
        f"medians of the rounds' p50: raw {med['raw']:.2f} ms, "
        f"A ({args.a}) {med['A']:.2f} ms x{med['A'] / med['raw']:.2f}, "
        f"B ({args.b}) {med['B']:.2f} ms x{med['B'] / med['raw']:.2f}"
    )
    # each round's B - A: both measured within a few seconds, so a spell of the machine moves
    # both alike; the median of these differences is steadier than the difference of medians
    paired = sorted(bb - aa for aa, bb in zip(p50["A"], p50["B"], strict=True))
    faster = sum(d < 0 for d in paired)
    print(
        f"B - A by round: median {statistics.median(paired):+.2f} ms "
        f"(B faster in {faster} of {len(paired)} rounds)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="a git revision, or . for the working tree")
    parser.add_argument("b", help="another")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="per path and round")
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
            for name, revision in (("A", args.a), ("B", args.b)):
                source = checkout(revision, Path(tmp) / name)
                if source != ROOT:
                    worktrees.append(source)
                proc, urls[name] = b.start_server(uri, auth, 1, source)
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
