"""Issue 17 item 3: `eventStream` over a real WebSocket (graphql-transport-ws on /graphql):
replay from a cursor then live events, in order with no gaps or duplicates; filters; a
partner's stream in the partner view; the key in the handshake's header or in connection_init;
unknown keys and keyless connections refused; the document limits and error masking still
apply. On each store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, PARTNER_OC, PARTNER_TT, Api, api_settings
from tests.api.test_events import SUBMIT, events, order_flow
from tests.api.test_events_partners import PARTNER_FIELDS, leased_line, with_free_e1

PROTOCOL = ["graphql-transport-ws"]
STREAM = """subscription($after: String, $types: [String!], $subjects: [String!],
                         $sites: [String!], $products: [String!]) {
  eventStream(after: $after, types: $types, subjects: $subjects, sites: $sites,
              products: $products) {
    __typename
    ... on Event { id sequence cursor eventType subject body }
    ... on Forbidden { code role message }
  }
}"""


@pytest.fixture
def client(demo_store: GraphStore) -> Iterator[TestClient]:
    """The app on the reference network (free E1 ports for leased lines), on each store."""
    with TestClient(create_app(api_settings(), store=with_free_e1(demo_store))) as tc:
        yield tc


def connect(client: TestClient, key: str | None = None) -> Any:
    """A WebSocket to /graphql, the key in the handshake's Authorization header when given."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=headers)


def start(ws: WebSocketTestSession, payload: dict[str, Any] | None = None) -> None:
    """connection_init (with this payload), expecting the ack."""
    ws.send_json({"type": "connection_init", **({"payload": payload} if payload else {})})
    assert ws.receive_json() == {"type": "connection_ack"}


def subscribe(
    ws: WebSocketTestSession, op: str = "1", query: str = STREAM, **variables: Any
) -> None:
    """Start a subscription."""
    payload = {"query": query, "variables": variables}
    ws.send_json({"id": op, "type": "subscribe", "payload": payload})


def take(ws: WebSocketTestSession, n: int) -> list[dict[str, Any]]:
    """The next `n` results of the stream (each a `next` message without errors)."""
    out = []
    for _ in range(n):
        message = ws.receive_json()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        out.append(message["payload"]["data"]["eventStream"])
    return out


def pboss_events(items: list[dict[str, Any]]) -> list[str]:
    """What happened, per streamed order event."""
    return [i["body"]["event"]["productOrder"]["pbossEvent"] for i in items]


def test_replay_from_a_cursor_then_live_events_in_order(client: TestClient) -> None:
    api = Api(client)
    order_flow(api, "ST1")  # events 1-3
    cursor = events(api, first=1)["edges"][0]["cursor"]  # after event 1
    with connect(client, CRM) as ws:
        start(ws)
        subscribe(ws, after=cursor)
        replayed = take(ws, 2)
        assert [e["sequence"] for e in replayed] == [2, 3]
        order_flow(api, "ST2")  # committed while the stream waits
        live = take(ws, 3)
        assert [e["sequence"] for e in live] == [4, 5, 6]
        assert pboss_events(live) == ["acknowledged", "resourcesReserved", "reservationReleased"]
        assert {e["subject"] for e in live} == {"ORD-ST2"}
        assert live[-1]["cursor"] == events(api)["pageInfo"]["endCursor"]
        order_flow(api, "ST3")
        assert [e["sequence"] for e in take(ws, 3)] == [7, 8, 9]
        ws.send_json({"id": "1", "type": "complete"})


def test_filters_narrow_the_stream(client: TestClient) -> None:
    api = Api(client)
    with connect(client, CRM) as ws:
        start(ws)
        subscribe(ws, "site", sites=["B-DH"])
        subscribe(ws, "created", types=["ProductOrderCreateEvent"], products=["FTTH-100M"])
        order_flow(api, "FS1")  # FTTH at B-JZ
        order = leased_line(api, "FS2")  # CP-XX—B-DH
        got: dict[str, list[dict[str, Any]]] = {"site": [], "created": []}
        while len(got["site"]) < 3 or len(got["created"]) < 1:
            message = ws.receive_json()
            assert message["type"] == "next", message
            got[message["id"]].append(message["payload"]["data"]["eventStream"])
        assert {e["subject"] for e in got["site"]} == {order}
        assert [e["subject"] for e in got["created"]] == ["ORD-FS1"]
        api.data('mutation { cancelOrder(orderId: "ORD-FS1") { __typename } }', key=CRM)
        api.data(f'mutation {{ cancelOrder(orderId: "{order}") {{ __typename }} }}', key=CRM)
        [next_site] = take_id(ws, "site", 1)
        assert next_site["subject"] == order  # ORD-FS1's cancellation went by unseen
        assert pboss_events([next_site]) == ["cancelled"]


def take_id(ws: WebSocketTestSession, op: str, n: int) -> list[dict[str, Any]]:
    """The next `n` results of operation `op` (others' results are dropped)."""
    out = []
    while len(out) < n:
        message = ws.receive_json()
        assert message["type"] == "next", message
        if message["id"] == op:
            out.append(message["payload"]["data"]["eventStream"])
    return out


def test_a_partner_streams_its_orders_events_in_the_partner_view(client: TestClient) -> None:
    api = Api(client)
    with connect(client) as ws:  # a browser: the key in connection_init
        start(ws, {"apiKey": PARTNER_TT})
        subscribe(ws)
        order_flow(api, "PS1")  # not P-TT's
        order = leased_line(api, "PS2")  # over P-TT's PL-1
        api.data(f'mutation {{ cancelOrder(orderId: "{order}") {{ __typename }} }}', key=CRM)
        got = take(ws, 3)
        assert {e["subject"] for e in got} == {order}
        assert pboss_events(got) == ["resourcesReserved", "constructionDispatched", "cancelled"]
        for e in got:
            assert set(e["body"]["event"]["productOrder"]) <= PARTNER_FIELDS
    with connect(client, PARTNER_OC) as ws:  # P-OC replays from the start: nothing of its own
        start(ws)
        subscribe(ws)
        order_flow(api, "PS3")
        cable = {"crmOrderId": "PS4", "product": "CABLE-BB", "site": "B-DH", "customer": "H-4"}
        api.data(SUBMIT, key=CRM, input=cable)
        api.data('mutation { reserve(orderId: "ORD-PS4") { __typename } }', key=CRM)
        [first] = take(ws, 1)  # the cable order over P-OC's pool, nothing before it
        assert first["subject"] == "ORD-PS4"
        assert pboss_events([first]) == ["resourcesReserved"]


@pytest.mark.parametrize("key", ["nope", None])
def test_an_unknown_or_missing_key_is_refused(client: TestClient, key: str | None) -> None:
    if key is not None:  # an unknown key in the handshake: refused before the upgrade
        with pytest.raises(WebSocketDisconnect) as refused, connect(client, key) as ws:
            ws.receive_json()
        assert refused.value.code == 1008 and "unknown API key" in refused.value.reason
        return
    with connect(client) as ws:  # no key in the handshake nor in connection_init
        ws.send_json({"type": "connection_init", "payload": {}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403
    with connect(client) as ws:  # an unknown key in connection_init
        ws.send_json({"type": "connection_init", "payload": {"apiKey": "nope"}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403
    with connect(client) as ws:  # subscribing without connection_init
        subscribe(ws)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


def test_queries_and_bad_arguments_over_the_websocket_are_refused(client: TestClient) -> None:
    with connect(client, CRM) as ws:
        start(ws)
        subscribe(ws, query="{ products { id } }")
        message = ws.receive_json()
        assert message["type"] == "error", message
        assert "queries are not allowed" in message["payload"][0]["message"].lower(), message
        subscribe(ws, "bad", sites=[])  # a bad argument: the caller's error, not masked
        [error] = errors_of(answer(ws, "bad"))
        assert "sites lists 1 to" in error["message"], error
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        subscribe(ws, "cursor", after="bm90IGEgY3Vyc29y")
        [error] = errors_of(answer(ws, "cursor"))
        assert "invalid cursor" in error["message"], error


def errors_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors of an `error` message, or of a `next` one carrying errors."""
    assert message["type"] in ("error", "next"), message
    return message["payload"] if message["type"] == "error" else message["payload"]["errors"]


def answer(ws: WebSocketTestSession, op: str) -> dict[str, Any]:
    """The next message of operation `op` that is not its `complete`."""
    while True:
        message = ws.receive_json()
        if message.get("id") == op and message["type"] != "complete":
            return message


def test_the_document_limits_apply_to_subscriptions(demo_store: GraphStore) -> None:
    tight = api_settings(max_cost={"crm": 5, "engineer": 5, "admin": 5, "partner": 5})
    with TestClient(create_app(tight, store=demo_store)) as tc, connect(tc, CRM) as ws:
        start(ws)
        subscribe(ws, "cost")
        [error] = errors_of(answer(ws, "cost"))
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED", error
    few = api_settings(max_tokens=20)
    with TestClient(create_app(few, store=demo_store)) as tc, connect(tc, CRM) as ws:
        start(ws)
        subscribe(ws, "long")  # refused while parsing, the reason said (not a crash)
        [error] = errors_of(answer(ws, "long"))
        assert "more than 20 tokens" in error["message"], error
        assert ws.receive_json() == {"id": "long", "type": "complete"}


class BrokenLog:
    """A store whose event log fails in a way the caller must not read."""

    def __init__(self, inner: GraphStore):
        self.inner = inner

    def last_event_seq(self) -> int:
        raise RuntimeError("neo4j at 10.9.8.7 said: secret detail")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_unexpected_failures_in_a_stream_are_masked(
    demo_store: GraphStore, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(api_settings(), store=BrokenLog(demo_store))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR), TestClient(app) as tc, connect(tc, CRM) as ws:
        start(ws)
        subscribe(ws)
        message = ws.receive_json()
        text = str(message)
        assert "secret detail" not in text and "10.9.8.7" not in text, message
        assert errors_of(message)[0]["message"] == "Unexpected error."
    assert any("secret detail" in str(r.exc_info) for r in caplog.records if r.exc_info)


def test_a_role_that_reads_no_events_gets_forbidden(client: TestClient) -> None:
    """Every configured role reads events; the typed refusal is for any other (none today),
    shown here through the resolver with an anonymous principal."""
    import asyncio

    from pboss.graphql.context import Context
    from pboss.graphql.permissions import ANONYMOUS
    from pboss.graphql.schema import build_schema
    from pboss.http.endpoint import make_context

    state = client.app.state.pboss  # type: ignore[attr-defined]
    ctx: Context = make_context(state, ANONYMOUS)
    schema = build_schema(api_settings(graphql_threads=0))

    async def first() -> Any:
        stream = await schema.subscribe(STREAM, context_value=ctx)
        async for result in stream:
            return result

    result = asyncio.run(first())
    assert result.errors is None, result.errors
    assert result.data["eventStream"]["__typename"] == "Forbidden"
    assert result.data["eventStream"]["role"] == "anonymous"


class SyntheticLog:
    """A log of `n` synthetic events (every 10th about ORD-X), counting how it is read."""

    def __init__(self, n: int):
        self.n = n
        self.pages: list[tuple[int, int]] = []  # (after, how many returned)
        self.watchers: list[Any] = []

    def last_event_seq(self) -> int:
        return self.n

    def events_after(self, after: int, *, first: int, where: Any) -> list[Any]:
        from datetime import UTC, datetime

        from pboss.inventory.events import StoredEvent

        out = []
        for seq in range(after + 1, self.n + 1):
            subject = "ORD-X" if seq % 10 == 0 else "ORD-Y"
            event = StoredEvent(
                seq=seq, id=f"E{seq}", type="T", at=datetime.now(UTC), subject=subject, body={}
            )
            if where.matches(event):
                out.append(event)
                if len(out) == first:
                    break
        self.pages.append((after, len(out)))
        return out

    def watch_events(self, watcher: Any) -> Any:
        self.watchers.append(watcher)
        return lambda: self.watchers.remove(watcher)


class StreamContext:
    """What `follow` uses of a request's context."""

    def __init__(self, store: SyntheticLog):
        from pboss.config import Settings

        self.store = store
        self.settings = Settings(hub_poll_seconds=0.05)

    async def call(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)


def test_a_subscriber_far_behind_is_read_a_page_at_a_time_without_gaps() -> None:
    """Bounded memory: however far behind, the stream holds one page (STREAM_PAGE events) and
    reads the next only when the client took the last; a filter's skipped events move the
    cursor on to the head, so the next read starts there."""
    import asyncio

    from pboss.graphql.events.queries import Reader
    from pboss.graphql.events.subscriptions import STREAM_PAGE, follow
    from pboss.inventory.events import EventFilter

    async def run() -> None:
        log = SyntheticLog(2500)
        ctx = StreamContext(log)
        everything = follow(ctx, Reader(EventFilter(), None), 0)  # type: ignore[arg-type]
        got = [await anext(everything) for _ in range(150)]
        assert [e.sequence for e in got] == list(range(1, 151))
        assert log.pages == [(0, STREAM_PAGE), (STREAM_PAGE, STREAM_PAGE)]  # two pages read
        await everything.aclose()
        assert log.watchers == []  # stopped watching when the client went away
        log.pages.clear()
        log.n = 2505  # the last five pass no filter below
        wanted = Reader(EventFilter(subjects=["ORD-X"]), None)
        some = follow(ctx, wanted, 0)  # type: ignore[arg-type]
        got = [await anext(some) for _ in range(250)]
        assert [e.sequence for e in got] == list(range(10, 2501, 10))
        log.n = 2520  # fifteen more events commit, two of them ORD-X
        for watcher in list(log.watchers):
            watcher(2520)
        assert [(await anext(some)).sequence for _ in range(2)] == [2510, 2520]
        assert log.pages[-1] == (2505, 2)  # resumed from the head it had read, not from 2500
        await some.aclose()

    asyncio.run(run())
