"""POST /alarms over HTTP on both stores: NDJSON in, a result line per input line out; keys and
roles; bad lines typed and writing nothing while the good ones apply; the body limit."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.graphql.assurance.access import assurance_of
from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import KEYS, api_settings

NET = "net-key"


@pytest.fixture
def client(demo_store: GraphStore) -> Iterator[TestClient]:
    """The app on the demo network with a network key besides the usual ones."""
    settings = api_settings().model_copy(update={"api_keys": {**KEYS, NET: "network"}})
    with TestClient(create_app(settings, store=demo_store)) as c:
        yield c


def post(client: TestClient, lines: list[Any], key: str | None = NET) -> Any:
    """POST these lines (dicts become JSON, strings are sent as they are)."""
    body = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    headers = {"Content-Type": "application/x-ndjson"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return client.post("/alarms", content=body.encode(), headers=headers)


def line(op: str, resource: str, **kw: Any) -> dict[str, Any]:
    """One alarm line (loss of signal at 09:00Z unless told)."""
    out = {"op": op, "resource": resource, "alarmType": "communicationsAlarm",
           "probableCause": "lossOfSignal", "time": "2026-03-02T09:00:00+00:00"}  # fmt: skip
    if op == "raise":
        out["severity"] = "critical"
    return {**out, **kw}


def rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(x) for x in response.text.splitlines()]


def test_good_lines_apply_bad_lines_are_typed_and_write_nothing(
    client: TestClient, demo_store: GraphStore
) -> None:
    response = post(
        client,
        [
            line("raise", "OLT-1/0/1"),
            "{not json",
            line("raise", "OLT-404"),
            "",
            line("raise", "ONT-4", severity="loud"),
            line("raise", "ONT-4", colour="red"),
            line("clear", "ONT-5"),
            line("raise", "OLT-1/0/1", time="2026-03-02T09:01:00+00:00"),
            line("clear", "OLT-1/0/1", time="2026-03-02T09:30:00+00:00"),
        ],
    )
    got = rows(response)
    assert [r["line"] for r in got] == [1, 2, 3, 5, 6, 7, 8, 9]
    by = {r["line"]: r for r in got}
    assert by[1]["ok"] and by[1]["outcome"] == "raised" and by[1]["alarm"].startswith("AL-")
    assert by[2]["error"]["code"] == "invalid_json"
    assert by[3]["error"] == {
        "code": "not_found", "message": "resource 'OLT-404' not found", "field": "resource",
    }  # fmt: skip
    assert (by[5]["error"]["code"], by[5]["error"]["field"]) == ("invalid_field", "severity")
    assert (by[6]["error"]["code"], by[6]["error"]["field"]) == ("unknown_field", "colour")
    assert by[7]["outcome"] == "ignored"  # a clear with no raise
    assert by[8]["outcome"] == "unchanged" and by[9]["outcome"] == "cleared"
    assert response.headers["X-Alarm-Failed"] == "4"
    assert demo_store.get("OLT-1/0/1").status == "available"  # type: ignore[union-attr]
    assert demo_store.get("ONT-4").status == "in_use"  # type: ignore[union-attr]
    assert demo_store.counts().get("Alarm") == 2  # OLT-1/0/1's and ONT-5's recorded clear
    # what the source changed is recorded as its doing
    [faulty] = [
        h
        for h in demo_store.history("OLT-1/0/1")
        if h.change == "status" and h.to_status == "faulty"
    ]
    assert faulty.actor.startswith("network:")


def test_keys_and_roles(client: TestClient, demo_store: GraphStore) -> None:
    one = [line("raise", "ONT-1")]
    assert post(client, one, key=None).status_code == 401
    assert post(client, one, key="wrong").status_code == 401
    for key in ("crm-key", "eng-key", "tt-key"):
        refused = post(client, one, key=key)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert demo_store.counts().get("Alarm", 0) == 0
    assert rows(post(client, one, key="admin-key"))[0]["outcome"] == "raised"


def test_body_and_line_limits(client: TestClient, demo_store: GraphStore) -> None:
    big = [line("raise", "ONT-1", specificProblem="x" * 1900)] * 40  # ~80 KB > 64 KB
    assert post(client, big).status_code == 413
    assert demo_store.counts().get("Alarm", 0) == 0


def test_an_alarm_storm_does_not_block_ordinary_queries(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a long batch is applied (each operation slowed to 40 ms), a query answers at once:
    ingest runs on its own threads, never on the server's loop or GraphQL's store threads."""
    service = assurance_of(client.app.state.pboss)  # type: ignore[attr-defined]
    apply = service.apply_alarm

    def slow(op: Any, *, actor: str) -> Any:
        time.sleep(0.04)
        return apply(op, actor=actor)

    monkeypatch.setattr(service, "apply_alarm", slow)
    storm = [line("raise", "ONT-1", sourceAlarmId=f"S-{i}", severity="minor") for i in range(60)]
    done: list[float] = []
    worker = threading.Thread(target=lambda: done.append(len(rows(post(client, storm)))))
    start = time.monotonic()
    worker.start()
    time.sleep(0.3)  # the storm is being applied
    query = {"query": '{ element(id: "OLT-1") { ... on Element { id } } }'}
    answer = client.post("/graphql", json=query, headers={"Authorization": "Bearer crm-key"})
    answered = time.monotonic() - start
    assert answer.status_code == 200 and answer.json()["data"]["element"]["id"] == "OLT-1"
    assert not done, "the storm must still be running when the query is answered"
    worker.join(30)
    assert done == [60] and time.monotonic() - start > answered + 0.5
