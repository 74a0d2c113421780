"""The GraphQL API over HTTP against the same answers computed by raw Cypher, in one run.

On a generated network in Neo4j (`medium` by default) it measures, for `riders(OLT)` (first page
of 50 + totals), `trace(circuit)` and `availability(site)`:

  * p50 and p99 latency with one client, HTTP (uvicorn on 127.0.0.1, a separate process) beside
    raw Cypher through the driver in this process (by `execute_query`, and by auto-commit as the
    store reads), and their ratios; the three take turns in half-second blocks;
  * throughput and p99 with 1, 8 and 32 concurrent clients, for both.

It first checks on a sample that both paths give the same answers. Targets (issue 14): riders
and trace HTTP p50 <= 2.0x raw Cypher by auto-commit; availability >= 300 req/s with p99 <= 50 ms
at 8 clients.

    python bench/bench_api.py                          # local Neo4j (started here), medium
    python bench/bench_api.py --uri bolt://h:7687 --reuse --scale small --seconds 5
    python bench/bench_api.py --bundle /tmp/gen-medium --json result.json

`--reuse` keeps a network already loaded (it never clears a store holding SplitterPorts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from neo4j import GraphDatabase

try:
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - the `fast` extra brings orjson
    from json import loads as _loads

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pboss.inventory.business import BLOCKING
from pboss.inventory.model import FAILURE_EDGES
from pboss.inventory.neo4j import local as neo4j_local
from pboss.inventory.neo4j.store import Neo4jStore
from pboss.inventory.results import RiderFields

#: The checkout this bench belongs to.
ROOT = Path(__file__).resolve().parents[1]
FAIL = "|".join(FAILURE_EDGES)
BAD = sorted(str(s) for s in BLOCKING)
KEY = "bench-api-key"
#: The raw side's path name when it reads by auto-commit (`AutoCommit`), beside "cypher".
AUTO = "cypher-ac"
#: Riders page size (set by --page): the same on the HTTP and the raw Cypher side.
PAGE = [50]
#: What the riders operation below shows of services and customers (`service { id }`,
#: `customer { id name }`), as the GraphQL layer asks the store for it.
RIDER_FIELDS = RiderFields(frozenset({"id"}), frozenset({"id", "name"}))

# ---- the GraphQL operations -------------------------------------------------------------------

GQL = {
    "riders": """query Riders($id: ID!, $first: Int!) { riders(resource: $id, first: $first) {
        ... on RiderConnection { totalCount
          totals { services customers byProduct { key count } byCustomerType { key count }
                   bySlaTier { key count } }
          edges { cursor node { health impairedBy product service { id } customer { id name } } }
          pageInfo { hasNextPage endCursor } } } }""",
    "trace": """query Trace($id: ID!) { trace(id: $id) {
        ... on Trace { health impairedBy
          hops { position role element { id kind } owner status seq slots capacity used } } } }""",
    "availability": """query Avail($id: ID!) { availability(site: $id) {
        ... on Availability { qualificationResult reasons
          options { product { id } network freeCapacity leadTimeHours } } } }""",
}


def variables(op: str, target: str) -> dict[str, Any]:
    """The variables of one operation on one target."""
    return {"id": target, "first": PAGE[0]} if op == "riders" else {"id": target}


def body(op: str, target: str) -> dict[str, Any]:
    """The JSON body posting one operation on one target."""
    return {"query": GQL[op], "variables": variables(op, target)}


# ---- the same answers by raw Cypher -------------------------------------------------------------

RAW_RIDERS = f"""
MATCH (x:Entity {{id: $id}})
CALL (x) {{
  MATCH (svc:Service)-[:{FAIL}*0..32]->(x)
  WITH DISTINCT svc
  OPTIONAL MATCH (svc)-[:FOR]->(c:Customer)
  RETURN svc, c ORDER BY svc.id
}}
WITH collect([svc, c]) AS rows
CALL (rows) {{
  UNWIND rows AS r WITH r[0].product AS k, count(*) AS n RETURN collect([k, n]) AS by_product
}}
CALL (rows) {{
  UNWIND rows AS r WITH DISTINCT r[1] AS c WHERE c IS NOT NULL
  RETURN count(c) AS customers, collect([c.customer_type, c.sla_tier]) AS kinds
}}
CALL (rows) {{
  UNWIND rows[0..$first] AS r
  WITH r[0] AS svc, r[1] AS c
  CALL (svc) {{
    OPTIONAL MATCH (svc)-[:{FAIL}*0..32]->(bad) WHERE bad.status IN $impairing
    RETURN collect(DISTINCT bad.id) AS bads
  }}
  RETURN collect([svc.id, svc.product, c.id, c.name, bads]) AS page
}}
RETURN size(rows) AS services, customers, by_product, kinds, page,
       size(rows) > $first AS more
"""
RAW_TRACE = f"""
MATCH (c:Entity {{id: $id}})
CALL (c) {{
  MATCH (c)-[:{FAIL}*1..32]->(n) WITH DISTINCT n
  RETURN collect(n.status) AS statuses
}}
CALL (c) {{
  OPTIONAL MATCH (c)-[:A_END]->(a) OPTIONAL MATCH (a)-[:PART_OF]->(ane)
  RETURN [ane.id, a.id] AS a_end
}}
CALL (c) {{
  OPTIONAL MATCH (c)-[r:ROUTED_OVER]->(s)
  CALL (s) {{ OPTIONAL MATCH (s)<-[h:ROUTED_OVER|HOLDS]-() RETURN sum(size(h.slots)) AS used }}
  WITH r, s, used ORDER BY r.seq
  RETURN collect([s.id, s.owner, s.status, r.seq, r.slots, s.capacity_vc12, used]) AS trunks
}}
CALL (c) {{
  OPTIONAL MATCH (c)-[:Z_END]->(z) OPTIONAL MATCH (z)-[:PART_OF]->(zne)
  RETURN [z.id, zne.id] AS z_end
}}
RETURN a_end, trunks, z_end, statuses
"""
RAW_AVAILABILITY = """
MATCH (site:Entity {id: $id})
CALL (site) {
  OPTIONAL MATCH (spl:Entity {site: site.id}) WHERE spl:Splitter AND spl.stage = 2
  CALL (spl) {
    OPTIONAL MATCH (sp:SplitterPort)-[:PART_OF]->(spl)
    WHERE sp.status = 'available' AND NOT EXISTS { (sp)<-[:FED_BY|HOLDS]-() }
    RETURN count(sp) AS free
  }
  CALL (spl) {
    OPTIONAL MATCH p = (spl)-[:FED_BY|PART_OF*1..16]->(top)
    WHERE NOT EXISTS { (top)-[:FED_BY|PART_OF]->() }
    WITH p ORDER BY length(p) DESC LIMIT 1
    RETURN CASE WHEN p IS NULL THEN [] ELSE nodes(p) END AS chain
  }
  WITH spl, free, chain, [n IN chain WHERE n:PonPort][0] AS pon
  CALL (pon) {
    OPTIONAL MATCH (pon)<-[:FED_BY|PART_OF*1..16]-(o)
    WHERE o:ONT OR (o:SplitterPort AND EXISTS { (o)<-[:HOLDS]-() })
    RETURN count(DISTINCT o) AS load
  }
  WITH pon, load, spl, free, none(n IN chain WHERE n.status IN $bad) AS healthy
  WHERE spl IS NOT NULL
  RETURN collect([pon.id, pon.max_split, load, CASE WHEN healthy THEN free ELSE 0 END])
         AS splitters
}
CALL (site) {
  OPTIONAL MATCH (pa:Entity {site: site.id}) WHERE pa:PartnerAccess AND NOT pa.status IN $bad
  RETURN collect([pa.owner, pa.total - pa.used - pa.reserved]) AS pools
}
CALL (site) {
  OPTIONAL MATCH (ne:Entity {site: site.id}) WHERE ne:NE AND NOT ne.status IN $bad
  OPTIONAL MATCH (p:Port)-[:PART_OF]->(ne)
  WHERE p.status = 'available' AND NOT EXISTS { (p)<-[:A_END|Z_END|TERMINATES|HOLDS]-() }
  RETURN count(p) AS ne_ports
}
RETURN splitters, pools, ne_ports
"""


def raw_riders(driver: Any, target: str) -> dict[str, Any]:
    """Riders of one resource, first page of 50 and totals, straight from Cypher."""
    rec = driver.execute_query(
        RAW_RIDERS, id=target, first=PAGE[0], impairing=BAD, routing_="r"
    ).records[0]
    return {"services": rec["services"], "customers": rec["customers"], "page": rec["page"]}


def raw_trace(driver: Any, target: str) -> dict[str, Any]:
    """A circuit's A-end, trunks in order and Z-end, with slot use and health inputs."""
    rec = driver.execute_query(RAW_TRACE, id=target, routing_="r").records[0]
    hops = [h for h in rec["a_end"] if h] + [t[0] for t in rec["trunks"] if t[0]]
    hops += [h for h in rec["z_end"] if h]
    return {"hops": hops, "bad": [s for s in rec["statuses"] if s in BAD]}


def raw_availability(driver: Any, target: str) -> dict[str, Any]:
    """Whether the site qualifies: free healthy splitter outputs within the PON budget, else a
    partner pool (alternate), else nothing."""
    rec = driver.execute_query(RAW_AVAILABILITY, id=target, bad=BAD, routing_="r").records[0]
    by_pon: dict[str, list[int]] = {}
    for pon, budget, load, free in rec["splitters"]:
        if pon is not None:
            by_pon.setdefault(pon, [max((budget or 0) - load, 0), 0])[1] += free
    ftth = sum(min(left, free) for left, free in by_pon.values())
    partner = sum(free for _, free in rec["pools"] if free is not None and free > 0)
    own = ftth > 0 or rec["ne_ports"] > 0
    result = "qualified" if own else ("alternate" if partner else "unqualified")
    return {"result": result, "ftth_free": ftth, "partner_free": partner}


RAW: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "riders": raw_riders,
    "trace": raw_trace,
    "availability": raw_availability,
}


class AutoCommit:
    """A driver whose `execute_query` runs the statement as one auto-commit transaction (RUN and
    PULL, no BEGIN or COMMIT), as the store's reads do: the raw side's second baseline, so the
    ratio is also shown without the round trip the store saves over `execute_query`."""

    def __init__(self, driver: Any):
        self.driver = driver

    def execute_query(self, query: str, routing_: str = "r", **params: Any) -> Any:
        """The records of `query`, as `.records` like the driver's EagerResult."""
        mode = "READ" if routing_ == "r" else "WRITE"
        with self.driver.session(default_access_mode=mode) as session:
            return SimpleNamespace(records=list(session.run(query, params)))


TARGETS = {
    "riders": "MATCH (o:OLT) RETURN o.id AS id ORDER BY id",
    "trace": "MATCH (c:Circuit)-[:ROUTED_OVER]->() RETURN DISTINCT c.id AS id ORDER BY id",
    "availability": """MATCH (s:Entity) WHERE s:Splitter AND s.stage = 2
                       RETURN DISTINCT s.site AS id ORDER BY id""",
}

# ---- running the server and the clients ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The server process: uvicorn as `pboss serve` runs it, without access logs, with `--workers`
#: processes. `bench_api_pair.py` may serve a revision from before the redesign, whose app module
#: and HTTP protocol lived elsewhere (`pboss.app`, `pboss.serving`).
_SERVE = """
import importlib.util
import sys
import uvicorn
new = importlib.util.find_spec("pboss.http") is not None
try:
    from pboss.serving import HTTP_PROTOCOL
except ImportError:
    HTTP_PROTOCOL = "auto"
port, workers = int(sys.argv[1]), int(sys.argv[2])
app = "pboss.http.app:create_app" if new else "pboss.app:create_app"
uvicorn.run(app, factory=True, host="127.0.0.1", port=port,
            log_level="warning", access_log=False, workers=workers, http=HTTP_PROTOCOL)
"""


def start_server(
    uri: str, auth: Any, workers: int, source: Path = ROOT, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """uvicorn serving pboss (from the checkout at `source`, with `extra_env` set, e.g. a
    PBOSS_* setting) on the Neo4j store, in its own process; returns it and its URL."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(source))
    env.update(
        PBOSS_STORE="neo4j",
        PBOSS_NEO4J_URI=uri,
        PBOSS_DEMO="false",
        PBOSS_GRAPHIQL="false",
        PBOSS_API_KEYS=json.dumps({KEY: "engineer"}),
    )
    if auth:
        env.update(PBOSS_NEO4J_USER=auth[0], PBOSS_NEO4J_PASSWORD=auth[1])
    env.update(extra_env or {})
    cmd = [sys.executable, "-c", _SERVE, str(port), str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=source)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("uvicorn did not become ready in 60 s")


@dataclass
class Level:
    """One measurement: an operation, a path (http or cypher), a number of clients."""

    op: str
    path: str
    clients: int
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float


def _summary(op: str, path: str, clients: int, lat: list[float], errors: int, secs: float) -> Level:
    lat.sort()
    pick = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: 0)
    return Level(
        op, path, clients, len(lat), errors, round(secs, 2), round(len(lat) / secs, 1),
        round(statistics.median(lat) * 1000, 2) if lat else 0.0, round(pick(0.99), 2),
    )  # fmt: skip


def run_cypher(op: str, driver: Any, targets: list[str], clients: int, seconds: float) -> Level:
    """`clients` threads calling the raw Cypher for `seconds`."""
    fn = RAW[op]
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                fn(driver, rng.choice(targets))
            except Exception:
                with lock:
                    errors[0] += 1
                continue
            mine.append(time.perf_counter() - t)
        with lock:
            lat.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return _summary(op, "cypher", clients, lat, errors[0], time.monotonic() - started)


class _Conn:
    """One keep-alive HTTP/1.1 connection posting JSON, on bare asyncio streams.

    The load clients share the 2 cores with the server and Neo4j, so they use this instead of
    httpx (which spent about as much CPU per request as the server's whole HTTP layer).
    """

    def __init__(self, url: str):
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        """Post `payload`; returns the status and the body (reconnects after a failure)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        try:
            self.writer.write(head.encode() + payload)
            lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            status = int(lines[0].split()[1])
            size = next(
                int(h.split(b":", 1)[1]) for h in lines if h.lower().startswith(b"content-length:")
            )
            return status, await self.reader.readexactly(size)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Drop the connection."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def answered(status: int, data: bytes) -> bool:
    """True for an HTTP answer that is a GraphQL result without errors."""
    return status == 200 and "errors" not in _loads(data)


async def _http_level(op: str, url: str, targets: list[str], clients: int, seconds: float) -> Level:
    lat: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def client(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        conn = _Conn(url)
        while time.monotonic() < stop:
            payload = json.dumps(body(op, rng.choice(targets))).encode()
            t = time.perf_counter()
            try:
                status, data = await conn.post("/graphql", payload)
                ok = answered(status, data)
            except (OSError, ValueError, StopIteration, asyncio.IncompleteReadError):
                ok = False
            if ok:
                lat.append(time.perf_counter() - t)
            else:
                errors += 1
        conn.close()

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return _summary(op, "http", clients, lat, errors, time.monotonic() - started)


def run_http(op: str, url: str, targets: list[str], clients: int, seconds: float) -> Level:
    """`clients` concurrent HTTP clients (asyncio, one keep-alive connection each) posting the
    GraphQL operation for `seconds`."""
    return asyncio.run(_http_level(op, url, targets, clients, seconds))


#: One client's paths take turns in blocks of this many seconds (see `run_one_client`).
BLOCK_SECONDS = 0.5


async def _one_client(
    op: str, driver: Any, url: str, targets: list[str], seconds: float
) -> list[Level]:
    paths = ("cypher", AUTO, "http")
    raw = {"cypher": driver, AUTO: AutoCommit(driver)}
    lat: dict[str, list[float]] = {p: [] for p in paths}
    errors = dict.fromkeys(paths, 0)
    spent = dict.fromkeys(paths, 0.0)
    rng = random.Random(7)
    conn = _Conn(url)
    order = list(paths)
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        rng.shuffle(order)
        for path in order:
            began = time.monotonic()
            while time.monotonic() - began < BLOCK_SECONDS:
                target = rng.choice(targets)
                payload = json.dumps(body(op, target)).encode() if path == "http" else b""
                started = time.perf_counter()
                try:
                    if path == "http":
                        ok = answered(*await conn.post("/graphql", payload))
                    else:
                        RAW[op](raw[path], target)
                        ok = True
                except Exception:
                    ok = False
                if ok:
                    lat[path].append(time.perf_counter() - started)
                else:
                    errors[path] += 1
            spent[path] += time.monotonic() - began
    conn.close()
    return [_summary(op, p, 1, lat[p], errors[p], spent[p]) for p in paths]


def run_one_client(
    op: str, driver: Any, url: str, targets: list[str], seconds: float
) -> list[Level]:
    """One client, raw Cypher (by `execute_query` and by auto-commit) and HTTP taking turns in
    blocks of `BLOCK_SECONDS`, shuffled, for `seconds` in all: each path runs warm within its
    block, and a spell of the shared machine falls on all three alike, so the ratio holds from
    one run to the next (whole runs of one path after another gave x1.26 to x1.73 within ten
    minutes on the same code)."""
    return asyncio.run(_one_client(op, driver, url, targets, seconds))


# ---- where the time goes: one client, layer by layer ------------------------------------------

STORE_CALL: dict[str, Callable[[Any, str], Any]] = {
    # the properties the GraphQL operation's selection reads (what its resolver asks the store for)
    "riders": lambda store, t: store.riders([t], first=PAGE[0], fields=RIDER_FIELDS),
    "trace": lambda store, t: store.trace(t),
    "availability": lambda store, t: store.site_view(t),
}


def breakdown(
    op: str, store: Neo4jStore, uri: str, auth: Any, targets: list[str], url: str, n: int
) -> dict[str, float]:
    """p50 ms of raw Cypher (`execute_query`, then auto-commit), the store call, GraphQL executed
    in-process, and HTTP, sequentially."""
    from pboss.config import Settings
    from pboss.graphql.context import Context
    from pboss.graphql.permissions import Principal
    from pboss.graphql.schema import build_schema
    from pboss.http.app import create_app

    user, password = auth if auth else (None, None)
    settings = Settings(
        store="neo4j",
        neo4j_uri=uri,
        neo4j_user=user,
        neo4j_password=password,
        demo=False,
        api_keys={KEY: "engineer"},
    )
    app = create_app(settings)
    state = app.state.pboss
    schema = build_schema(settings)
    principal = Principal("engineer", "bench")

    async def graphql(t: str) -> None:
        ctx = Context(store=state["store"], principal=principal, settings=settings, state=state)
        result = await schema.execute(GQL[op], variable_values=variables(op, t), context_value=ctx)
        assert not result.errors, result.errors

    http = httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=30)
    layers: dict[str, Callable[[str], Any]] = {
        "cypher": lambda t: RAW[op](store.client.driver, t),
        "auto-commit": lambda t: RAW[op](AutoCommit(store.client.driver), t),
        "store": lambda t: STORE_CALL[op](store, t),
        "graphql": lambda t: asyncio.run(graphql(t)),
        "http": lambda t: http.post("/graphql", json=body(op, t)),
    }
    out = {}
    try:
        for name, fn in layers.items():
            lat = []
            for i in range(n):
                started = time.perf_counter()
                fn(targets[i % len(targets)])
                lat.append(time.perf_counter() - started)
            out[name] = round(statistics.median(lat) * 1000, 2)
    finally:
        http.close()
        state["store"].close()
        state["executor"].shutdown()
    return out


# ---- agreement of the two paths ---------------------------------------------------------------


def _http_answer(url: str, op: str, target: str) -> dict[str, Any]:
    r = httpx.post(f"{url}/graphql", json=body(op, target), headers={"X-API-Key": KEY}, timeout=60)
    return r.json()["data"][op]


def agree(url: str, driver: Any, op: str, target: str) -> str | None:
    """Why the HTTP answer and the raw Cypher answer differ for one target (None if they agree)."""
    got, raw = _http_answer(url, op, target), RAW[op](driver, target)
    if op == "riders":
        mine = (got["totals"]["services"], got["totals"]["customers"])
        page = [e["node"]["service"]["id"] for e in got["edges"]]
        if mine != (raw["services"], raw["customers"]) or page != [p[0] for p in raw["page"]]:
            return f"riders {target}: http {mine} {page[:3]} vs cypher {raw['services']}"
    elif op == "trace":
        ids = [h["element"]["id"] for h in got["hops"]]
        if ids != raw["hops"]:
            return f"trace {target}: http {ids} vs cypher {raw['hops']}"
    elif got["qualificationResult"] != raw["result"]:
        return f"availability {target}: http {got['qualificationResult']} vs cypher {raw}"
    return None


# ---- set-up: a Neo4j with a generated network --------------------------------------------------


def _endpoint(args: argparse.Namespace) -> tuple[str, Any, bool]:
    uri = args.uri or os.environ.get("NEO4J_URI")
    if uri:
        user, password = os.environ.get("NEO4J_USER"), os.environ.get("NEO4J_PASSWORD")
        return uri, ((user, password or "") if user else None), False
    home = Path(args.home)
    print(f"starting a local Neo4j in {home} (heap {args.heap}, page cache {args.pagecache})")
    uri = neo4j_local.start(home, port=args.port, heap=args.heap, pagecache=args.pagecache)
    return uri, neo4j_local.credentials(home), True


def _load(store: Neo4jStore, args: argparse.Namespace) -> None:
    from pboss.loaders.generator import generate
    from pboss.loaders.loader import load_directory

    if args.reuse and store.counts().get("SplitterPort", 0) > 0:
        print(f"reusing the loaded network: {store.counts().get('OLT', 0)} OLTs")
        return
    bundle = Path(args.bundle or tempfile.mkdtemp(prefix=f"pboss-{args.scale}-"))
    if not (bundle / "manifest.json").exists():
        started = time.perf_counter()
        summary = generate(bundle, args.scale, args.seed, overwrite=True)
        took = time.perf_counter() - started
        print(f"generated {summary.nodes} nodes, {summary.edges} edges in {took:.0f} s")
    started = time.perf_counter()
    store.clear()
    load_directory(store, bundle)
    print(f"loaded {bundle} in {time.perf_counter() - started:.0f} s")


def _print_table(levels: list[Level]) -> None:
    print(f"{'op':13}{'path':10}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for lv in levels:
        print(
            f"{lv.op:13}{lv.path:10}{lv.clients:>8}{lv.per_second:>9.1f}{lv.p50_ms:>9.2f}"
            f"{lv.p99_ms:>9.2f}{lv.errors:>8}"
        )


def add_neo4j_options(parser: argparse.ArgumentParser) -> None:
    """The options naming the Neo4j to use (`_endpoint`): a URI, else a local one started here."""
    parser.add_argument("--uri", help="Neo4j bolt URI (default: NEO4J_URI, else a local Neo4j)")
    parser.add_argument("--home", default=".pboss/bench-api-neo4j")
    parser.add_argument("--port", type=int, default=7698)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="1g")
    parser.add_argument("--keep", action="store_true", help="leave the local Neo4j running")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_neo4j_options(parser)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bundle", help="a generated bundle to load (generated if missing)")
    parser.add_argument("--reuse", action="store_true", help="keep a network already loaded")
    parser.add_argument("--ops", default="riders,trace,availability")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--targets", type=int, default=200, help="sampled ids per operation")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--breakdown", type=int, default=100, help="requests per layer timing")
    parser.add_argument("--page", type=int, default=50, help="riders page size (first)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    PAGE[0] = args.page

    uri, auth, started_local = _endpoint(args)
    # the raw Cypher goes through this driver: like the store's hot reads, it does not ask for
    # "unknown relationship type" notices (HOLDS before any hold), which the driver would log
    driver = GraphDatabase.driver(
        uri, auth=auth, notifications_disabled_categories=["UNRECOGNIZED"]
    )
    store = Neo4jStore(uri, auth=auth, driver=driver)
    server = None
    try:
        _load(store, args)
        rng = random.Random(args.seed)
        ops = args.ops.split(",")
        targets = {}
        for op in ops:
            ids = [r["id"] for r in store.read(f"bench.{op}", TARGETS[op])]
            targets[op] = rng.sample(ids, min(args.targets, len(ids)))
            print(f"{op}: {len(ids)} candidates, sampling {len(targets[op])}")
        server, url = start_server(uri, auth, args.workers)
        problems = [
            why for op in ops for t in targets[op][:20] if (why := agree(url, driver, op, t))
        ]
        print(f"answers agree on {20 * len(ops) - len(problems)} of {20 * len(ops)} samples")
        for why in problems[:10]:
            print(f"  differs: {why}")
        print(
            "one client, p50 ms by layer (raw Cypher by execute_query and auto-commit, store call,"
            " GraphQL in-process, HTTP):"
        )
        layers = {}
        for op in ops:
            layers[op] = breakdown(op, store, uri, auth, targets[op], url, args.breakdown)
            print(f"  {op:13}" + "  ".join(f"{k} {v:.2f}" for k, v in layers[op].items()))
        levels: list[Level] = []
        for op in ops:
            for clients in (int(c) for c in args.clients.split(",")):
                if clients == 1:  # the three paths in turns: the ratio is judged here
                    run_one_client(op, driver, url, targets[op], min(2.0, args.seconds))
                    levels += run_one_client(op, driver, url, targets[op], 3 * args.seconds)
                    _print_table(levels[-3:])
                    continue
                run_cypher(op, driver, targets[op], clients, min(2.0, args.seconds))  # warm-up
                run_http(op, url, targets[op], clients, min(2.0, args.seconds))
                levels.append(run_cypher(op, driver, targets[op], clients, args.seconds))
                levels.append(run_http(op, url, targets[op], clients, args.seconds))
                _print_table(levels[-2:])
        print()
        _print_table(levels)
        print()
        verdicts = []
        for op in ops:
            one = {lv.path: lv for lv in levels if lv.op == op and lv.clients == 1}
            if "http" in one and "cypher" in one and one["cypher"].p50_ms:
                ratio = one["http"].p50_ms / one["cypher"].p50_ms
                ratio99 = one["http"].p99_ms / max(one["cypher"].p99_ms, 1e-9)
                print(f"{op}: HTTP/Cypher with 1 client: p50 x{ratio:.2f}, p99 x{ratio99:.2f}")
                auto = None
                if AUTO in one and one[AUTO].p50_ms:
                    auto = one["http"].p50_ms / one[AUTO].p50_ms
                    print(
                        f"{op}: HTTP/Cypher by auto-commit with 1 client: p50 x{auto:.2f}, "
                        f"p99 x{one['http'].p99_ms / max(one[AUTO].p99_ms, 1e-9):.2f}"
                    )
                if op in ("riders", "trace") and auto is not None:
                    # the raw side that saves the round trip the store saves (issue 14's measure)
                    verdicts.append((f"{op} p50 <= 2.0x raw Cypher (auto-commit)", auto <= 2.0))
        served = [lv for lv in levels if lv.op == "availability" and lv.path == "http"]
        at_8 = [lv for lv in served if lv.clients == 8]
        if at_8:
            lv = at_8[0]
            verdicts.append(
                (
                    "availability >= 300 req/s with p99 <= 50 ms at 8 clients "
                    f"({lv.per_second} req/s, p99 {lv.p99_ms} ms)",
                    lv.per_second >= 300 and lv.p99_ms <= 50,
                )
            )
        for text, ok in verdicts:
            print(f"  [{'met' if ok else 'MISSED'}] {text}")
        counts = store.counts()
        result = {
            "scale": args.scale,
            "riders_page": args.page,
            "nodes": sum(v for k, v in counts.items() if not k.startswith("edge:")),
            "edges": sum(v for k, v in counts.items() if k.startswith("edge:")),
            "workers": args.workers,
            "agreement_problems": problems,
            "breakdown_p50_ms": layers,
            "levels": [asdict(lv) for lv in levels],
            "verdicts": {text: ok for text, ok in verdicts},
        }
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
        return 0 if not problems else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        store.close()
        if started_local and not args.keep:
            neo4j_local.stop(Path(args.home))


if __name__ == "__main__":
    raise SystemExit(main())
