"""Stateless replicas: three API processes behind a real load balancer act as one service.

Two `pboss serve` processes and one `pboss serve --workers 2` run against the test Neo4j (on
its `neo4j://` routing URI), behind Debian's nginx started here with its own configuration in a
temporary folder (round robin; `X-Upstream` says which replica answered). Through the balancer:
orders and reservations read their own writes on whichever replica serves the next request
(the `X-Pboss-Bookmark` token sent back), concurrent reservations take each port once, a
partner's sealed cursors page across replicas, the replicas' sweepers expire a lapsed hold
once, and each process counts its own metrics. nginx missing: skipped locally, a failure with
CI=true (scripts/test.sh installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pboss.inventory.consistency import decode
from pboss.inventory.demo import demo_network
from tests.neo4j_server import free_port

pytestmark = pytest.mark.neo4j

KEYS = {"crm-key": "crm", "eng-key": "engineer", "oc-key": "partner:P-OC"}
CRM, ENGINEER, PARTNER_OC = KEYS
HEADER = "X-Pboss-Bookmark"
ROOT = Path(__file__).resolve().parents[2]

SUBMIT = """mutation($input: SubmitOrderInput!) {
  submitOrder(input: $input) { __typename ... on Order { id state } } }"""
RESERVE = """mutation($id: ID!, $ttl: Int) { reserve(orderId: $id, ttlSeconds: $ttl) {
  __typename ... on Reservation { id state items { id role } } ... on NoCapacity { reasons } } }"""
ORDER = """query($id: ID!) { order(id: $id) { __typename
  ... on Order { id state reservations { id state } } } }"""
RELEASE = """mutation($id: ID!) { release(reservationId: $id) { __typename } }"""
RESERVATION = """query($id: ID!) { reservation(id: $id) { __typename
  ... on Reservation { id state closeReason } } }"""
RIDERS = """query R($after: String) { riders(resource: "PA-DH-OC", first: 1, after: $after) {
  __typename ... on RiderConnection { totalCount edges { cursor }
  pageInfo { hasNextPage endCursor } } } }"""
EVENTS = """query($after: String) { events(after: $after, first: 200) { ... on EventConnection {
  edges { node { subject body } } pageInfo { hasNextPage endCursor } } } }"""


def _nginx() -> str | None:
    """Debian's nginx, if installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  upstream pboss {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://pboss;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream off;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


@dataclass
class Service:
    """The balancer's address and the replicas' own addresses."""

    url: str
    replicas: list[str]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    def post(
        self, query: str, key: str = CRM, bookmark: str | None = None, **variables: Any
    ) -> httpx.Response:
        """One GraphQL operation through the balancer."""
        headers = {"Authorization": f"Bearer {key}"}
        if bookmark:
            headers[HEADER] = bookmark
        body = {"query": query, "variables": variables}
        response = self.http.post(f"{self.url}/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        return response


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready after {timeout}s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def service(
    neo4j_store_session: Any, neo4j_endpoint: Any, tmp_path_factory: Any
) -> Iterator[Service]:
    """The balancer over three replicas on the demo network (loaded here, cleared after)."""
    nginx = _nginx()
    if nginx is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is missing: scripts/test.sh installs Debian's nginx")
        pytest.skip("nginx missing ('apt-get install nginx'; scripts/test.sh installs it)")
    store = neo4j_store_session
    store.clear()
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="replicas")
    tmp = tmp_path_factory.mktemp("replicas")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PBOSS_STORE": "neo4j",
        "PBOSS_NEO4J_URI": neo4j_endpoint.uri.replace("bolt://", "neo4j://", 1),
        "PBOSS_API_KEYS": json.dumps(KEYS),
        "PBOSS_CURSOR_KEY": "replicas share this cursor key",
        "PBOSS_DEMO": "false",
        "PBOSS_METRICS_OPEN": "true",
        "PBOSS_PROVISIONING_SWEEP_INTERVAL_SECONDS": "0.5",
        "PBOSS_STORE_THREADS": "4",
        "PBOSS_GRAPHQL_THREADS": "1",
    }
    if neo4j_endpoint.auth is not None:
        env["PBOSS_NEO4J_USER"], env["PBOSS_NEO4J_PASSWORD"] = neo4j_endpoint.auth
    procs: list[subprocess.Popen[bytes]] = []
    replicas: list[str] = []
    try:
        for workers in (1, 1, 2):
            port = free_port()
            log = tmp / f"pboss-{port}.log"
            cmd = [sys.executable, "-m", "pboss", "serve", "--port", str(port)]
            cmd += ["--workers", str(workers)]
            with log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        cmd,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        cwd=tmp,
                        start_new_session=True,
                    )
                )
            replicas.append(f"127.0.0.1:{port}")
        for address, proc in zip(replicas, procs, strict=True):
            log = tmp / f"pboss-{address.split(':')[1]}.log"
            _wait_healthy(f"http://{address}", proc, log, 180)
        port = free_port()
        servers = "\n".join(f"    server {a} max_fails=0;" for a in replicas)
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, servers=servers, port=port))
        balancer = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(tmp), "-e", str(tmp / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(balancer)
        _wait_healthy(f"http://127.0.0.1:{port}", balancer, tmp / "error.log", 30)
        yield Service(f"http://127.0.0.1:{port}", replicas)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        store.clear()


def _submit(service: Service, crm: str, bookmark: str | None = None) -> httpx.Response:
    order = {"crmOrderId": crm, "product": "FTTH-100M", "site": "B-JZ", "customer": f"H-{crm}"}
    return service.post(SUBMIT, bookmark=bookmark, input=order)


def test_requests_spread_over_every_replica(service: Service) -> None:
    seen = Counter(
        service.http.get(f"{service.url}/healthz").headers["X-Upstream"] for _ in range(9)
    )
    assert set(seen) == set(service.replicas), seen


def test_orders_and_reservations_read_their_writes_on_whichever_replica_answers(
    service: Service,
) -> None:
    upstreams = []
    for i in range(4):
        made = _submit(service, f"RYW-{i}")
        token = made.headers[HEADER]
        assert made.json()["extensions"]["bookmark"] == token
        order_id = made.json()["data"]["submitOrder"]["id"]
        read = service.post(ORDER, bookmark=token, id=order_id)  # the next replica in turn
        assert read.json()["data"]["order"]["state"] == made.json()["data"]["submitOrder"]["state"]
        assert read.headers[HEADER] == token  # echoed: keep the last one
        held = service.post(RESERVE, bookmark=token, id=order_id)
        reservation = held.json()["data"]["reserve"]
        assert reservation["__typename"] == "Reservation", reservation
        newer = held.headers[HEADER]
        assert newer != token and decode(newer)
        again = service.post(ORDER, bookmark=newer, id=order_id).json()["data"]["order"]
        assert [r["id"] for r in again["reservations"]] == [reservation["id"]]
        upstreams += [r.headers["X-Upstream"] for r in (made, read, held)]
    assert len(set(upstreams)) == 3  # every replica wrote or read some of them


def test_concurrent_reservations_across_replicas_take_each_port_once(service: Service) -> None:
    def order_and_hold(i: int) -> dict[str, Any]:
        made = _submit(service, f"RACE-{i}")
        order_id = made.json()["data"]["submitOrder"]["id"]
        held = service.post(RESERVE, bookmark=made.headers[HEADER], id=order_id)
        return held.json()["data"]["reserve"]

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(order_and_hold, range(24)))
    won = [o for o in outcomes if o["__typename"] == "Reservation"]
    assert {o["__typename"] for o in outcomes} <= {"Reservation", "NoCapacity"}
    held_ports = [item["id"] for o in won for item in o["items"] if item["role"] == "splitter_port"]
    assert won and len(held_ports) == len(set(held_ports))  # no port held twice
    for o in won:  # leave the site's capacity to the tests after this one
        released = service.post(RELEASE, id=o["id"]).json()["data"]["release"]
        assert released["__typename"] == "Reservation", released


def test_a_partner_cursor_issued_by_one_replica_is_accepted_by_every_other(
    service: Service,
) -> None:
    first = service.post(RIDERS, key=PARTNER_OC)
    riders = first.json()["data"]["riders"]
    assert riders["__typename"] == "RiderConnection" and riders["totalCount"] >= 1, riders
    cursor = riders["pageInfo"]["endCursor"]
    upstreams = {first.headers["X-Upstream"]}
    for _ in range(3):  # round robin: the other replicas, then the issuer again
        page = service.post(RIDERS, key=PARTNER_OC, after=cursor)  # refused: errors, asserted
        upstreams.add(page.headers["X-Upstream"])
        assert page.json()["data"]["riders"]["__typename"] == "RiderConnection"
    assert upstreams == set(service.replicas)


def test_the_replicas_sweepers_expire_a_lapsed_hold_once(service: Service) -> None:
    made = _submit(service, "SWEEP-1")
    order_id = made.json()["data"]["submitOrder"]["id"]
    held = service.post(RESERVE, bookmark=made.headers[HEADER], id=order_id, ttl=1)
    reservation = held.json()["data"]["reserve"]
    assert reservation["__typename"] == "Reservation", reservation
    rid = reservation["id"]
    deadline = time.monotonic() + 30
    state = "HELD"
    while state != "EXPIRED" and time.monotonic() < deadline:
        time.sleep(0.5)
        state = service.post(RESERVATION, id=rid).json()["data"]["reservation"]["state"]
    assert state == "EXPIRED"
    time.sleep(2)  # several sweeps of all four processes more
    expired, after = [], None
    while True:
        page = service.post(EVENTS, after=after).json()["data"]["events"]
        expired += [
            e["node"]
            for e in page["edges"]
            if e["node"]["subject"] == "ORD-SWEEP-1"
            and e["node"]["body"]["event"]["productOrder"]["pbossEvent"] == "reservationExpired"
        ]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(expired) == 1, expired


def test_each_process_counts_its_own_metrics(service: Service) -> None:
    """The two single-process replicas each count exactly the probes the balancer sent them
    (the third runs two workers, each with its own registry, so a scrape sees one of them)."""
    singles = service.replicas[:2]
    before = {a: _served(service, a) for a in singles}
    answered = Counter(
        service.http.get(f"{service.url}/healthz").headers["X-Upstream"] for _ in range(6)
    )
    assert {a: _served(service, a) - before[a] for a in singles} == {
        a: answered[a] for a in singles
    }


def _served(service: Service, address: str) -> float:
    """The /healthz requests a replica's own /metrics counts."""
    text = service.http.get(f"http://{address}/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("pboss_http_requests_total{") and 'route="/healthz"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
