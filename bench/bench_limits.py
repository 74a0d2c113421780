"""What one abusive request costs the server (issue 16 #1 and #9), measured over real HTTP.

Starts `uvicorn pboss.http.app:create_app --factory` in its own process as `pboss serve` runs it
(embedded store with the demo network, an engineer and a partner key), then measures:

- the fragment bomb (`fragment F<i> on Query { ...F<i-1> ...F<i-1> }`, `query { ...F<k> }`):
  how long its refusal takes for k = 10, 20, 39 (p50 and max of `--repeat` requests);
- the issue's cost case (50 aliases of nested `elements(first: 500)`): refusal time and size;
- /healthz latency (p50, max) idle, while `--clients` threads send k=39 bombs without pause,
  and while they send the heaviest query an engineer may run (just under the cost limit);
- with `--fuzz N`: N generated requests (tests/api/fuzz_requests.py), counting internal errors.

    python bench/bench_limits.py                    # defaults: --repeat 20 --clients 4 --seconds 5
    python bench/bench_limits.py --fuzz 10000

Exit status 1 when a bomb is answered with data or a fuzzed request gets a 5xx or a masked crash.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"bench-eng": "engineer", "bench-partner": "partner:P-OC"}
NESTED = (
    "elements(first: 500) { edges { node { ... on Element { dependants { node { ... on Element {"
    " dependants { node { ... on Element { history { at } } } } } } } } } } }"
)
#: Just under an engineer's default cost limit (100,000): 500 elements with their neighbours.
HEAVY = (
    "{ elements(first: 500) { totalCount edges { cursor node { __typename ... on Element { id "
    "kind name status siteId dependencies { type node { id kind } } } } } } }"
)


def fragment_bomb(k: int) -> str:
    """2^k selections behind ~40*k bytes."""
    lines = ["fragment F0 on Query { __typename }"]
    lines += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, k + 1)]
    return f"query {{ ...F{k} }}\n" + "\n".join(lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen[bytes]:
    """pboss on uvicorn in its own process, answering /healthz."""
    env = {
        **os.environ,
        "PBOSS_STORE": "memory",
        "PBOSS_DEMO": "true",
        "PBOSS_API_KEYS": json.dumps(KEYS),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "uvicorn", "pboss.http.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
               "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start within 60 s")


def post(client: httpx.Client, query: str, key: str = "bench-partner") -> httpx.Response:
    return client.post("/graphql", json={"query": query}, headers={"X-API-Key": key})


def timed(client: httpx.Client, query: str, repeat: int, key: str) -> tuple[list[float], Any]:
    """Latencies (ms) of `repeat` sends of `query`, and the last answer."""
    latencies, last = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        response = post(client, query, key)
        latencies.append((time.perf_counter() - start) * 1000)
        last = response
    return latencies, last


def probe_health(url: str, seconds: float) -> list[float]:
    """/healthz latencies (ms), one probe every 20 ms for `seconds`."""
    latencies = []
    with httpx.Client(base_url=url, timeout=120) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            client.get("/healthz")
            latencies.append((time.perf_counter() - start) * 1000)
            time.sleep(0.02)
    return latencies


def health_under_load(url: str, query: str, key: str, clients: int, seconds: float) -> tuple:
    """/healthz latencies while `clients` threads send `query` without pause; and how many
    of those requests were answered."""
    stop = threading.Event()
    sent = [0]

    def hammer() -> None:
        with httpx.Client(base_url=url, timeout=600) as client:
            while not stop.is_set():
                post(client, query, key)
                sent[0] += 1

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    latencies = probe_health(url, seconds)
    stop.set()
    for thread in threads:
        thread.join(600)
    return latencies, sent[0]


def fmt(latencies: list[float]) -> str:
    return f"p50 {statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms"


def run_fuzz(url: str, count: int) -> int:
    """Send `count` generated requests; the number of internal errors (5xx, masked crash)."""
    sys.path.insert(0, str(ROOT))
    from graphql import build_schema

    from tests.api.fuzz_requests import requests

    sdl = (ROOT / "pboss" / "graphql" / "schema.graphql").read_text()
    failures = 0
    start = time.perf_counter()
    with httpx.Client(base_url=url, timeout=120) as client:
        for i, request in enumerate(requests(build_schema(sdl), 16)):
            if i == count:
                break
            key = list(KEYS)[i % 2]
            body = {"query": request.query, "variables": request.variables}
            response = client.post("/graphql", json=body, headers={"X-API-Key": key})
            if response.status_code >= 500 or "Unexpected error" in response.text:
                failures += 1
                print("internal error:", request.query[:200], response.text[:200])
    print(
        f"fuzz: {count} requests in {time.perf_counter() - start:.0f} s, {failures} internal errors"
    )
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--fuzz", type=int, default=0, help="generated requests to send")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port)
    status = 0
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            post(client, "{ __typename }")  # warm up
            for k in (10, 20, 39):
                query = fragment_bomb(k)
                latencies, last = timed(client, query, args.repeat, "bench-partner")
                errors = last.json().get("errors") or [{}]
                code = errors[0].get("extensions", {}).get("code")
                if code is None and k == 39:
                    status = 1
                what = f"refused {code}" if code else "answered (under the cost limit)"
                print(f"bomb k={k} ({len(query)} bytes): {what}, {fmt(latencies)}")
            issue = "{ " + " ".join(f"a{i}: {NESTED}" for i in range(50)) + " }"
            latencies, last = timed(client, issue, args.repeat, "bench-eng")
            code = last.json()["errors"][0]["extensions"]["code"]
            print(f"50 x nested elements(first: 500) ({len(issue)} bytes): {code}, "
                  f"{len(last.content)} bytes back, {fmt(latencies)}")  # fmt: skip
            latencies, last = timed(client, HEAVY, 3, "bench-eng")
            print(f"heaviest allowed query: {len(last.content)} bytes back, {fmt(latencies)}")
        print(f"/healthz idle: {fmt(probe_health(url, args.seconds))}")
        latencies, sent = health_under_load(
            url, fragment_bomb(39), "bench-partner", args.clients, args.seconds
        )
        print(f"/healthz, {args.clients} clients sending k=39 bombs ({sent} refused): "
              f"{fmt(latencies)}")  # fmt: skip
        latencies, sent = health_under_load(url, HEAVY, "bench-eng", args.clients, args.seconds)
        print(f"/healthz, {args.clients} clients sending the heaviest allowed query ({sent} "
              f"answered): {fmt(latencies)}")  # fmt: skip
        if args.fuzz:
            status |= run_fuzz(url, args.fuzz) > 0
    finally:
        server.terminate()
        server.wait(30)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
