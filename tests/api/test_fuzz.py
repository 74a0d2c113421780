"""A generated-request fuzz of the whole API (issue 16): 10,000 requests, no internal error.

Operations are built from the served schema (`tests/api/fuzz_requests.py`) with junk arguments
and variables, broken texts, every role's key, queries and mutations alike, against the app
in-process on the embedded store holding the reference network (the mutations change it as they
go). Whatever comes in, the answer is data, a typed result or a GraphQL error: never a 5xx and
never "Unexpected error." (a masked crash). Marked `slow` (about a minute on a quiet machine;
`-m "not slow"` leaves it out); PBOSS_FUZZ_REQUESTS and PBOSS_FUZZ_SEED change its size and seed.
"""

from __future__ import annotations

import itertools
import os
import random
from collections import Counter

import pytest
from fastapi.testclient import TestClient

from pboss.graphql.schema import TYPES_ONLY
from pboss.http.app import create_app
from pboss.inventory.demo import demo_network
from pboss.inventory.memory.store import MemoryStore
from tests.api.conftest import KEYS, api_settings
from tests.api.fuzz_requests import requests

REQUESTS = int(os.environ.get("PBOSS_FUZZ_REQUESTS", "10000"))
SEED = int(os.environ.get("PBOSS_FUZZ_SEED", "16"))


def fuzz(count: int, seed: int) -> tuple[Counter[str], list[tuple[str, object, int, str]]]:
    """Send `count` generated requests; the outcomes counted, and every internal error."""
    store = MemoryStore()
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    outcomes: Counter[str] = Counter()
    failures: list[tuple[str, object, int, str]] = []
    keys = random.Random(seed)
    with TestClient(create_app(api_settings(), store=store)) as client:
        for request in itertools.islice(requests(TYPES_ONLY.schema(), seed), count):
            body = {"query": request.query, "variables": request.variables}
            headers = {"X-API-Key": keys.choice(list(KEYS))}
            response = client.post("/graphql", json=body, headers=headers)
            if response.status_code >= 500 or "Unexpected error" in response.text:
                failures.append((request.query, request.variables, response.status_code,
                                 response.text[:500]))  # fmt: skip
                continue
            answer = response.json() if response.status_code == 200 else {}
            if response.status_code != 200:
                outcomes[f"http {response.status_code}"] += 1
            elif "errors" not in answer:
                outcomes["data"] += 1
            else:
                outcomes["data and errors" if answer.get("data") else "errors"] += 1
            outcomes["broken text"] += request.broken
    return outcomes, failures


@pytest.mark.slow
def test_ten_thousand_generated_requests_give_no_internal_error() -> None:
    outcomes, failures = fuzz(REQUESTS, SEED)
    assert failures == [], failures[:5]
    answered = sum(v for k, v in outcomes.items() if k != "broken text")
    assert answered == REQUESTS
    # the generator reaches the resolvers: a good share resolves cleanly, many are refused
    assert outcomes["data"] > REQUESTS // 4, outcomes
    assert outcomes["errors"] > REQUESTS // 10, outcomes
    assert outcomes["broken text"] > REQUESTS // 20, outcomes
