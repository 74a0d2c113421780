"""How pboss is served: uvicorn's HTTP protocol over a transport sending each loop step's writes
together, so an answer's head and body leave in one socket write (`pboss.http.serving`)."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.responses import Response
from typer.testing import CliRunner
from uvicorn.importer import import_from_string
from uvicorn.server import ServerState

from pboss.cli.main import app as cli_app
from pboss.http.app import create_app
from pboss.http.serving import HTTP_PROTOCOL, CoalescingHTTPProtocol, CoalescingTransport
from pboss.inventory.store import GraphStore
from tests.api.conftest import ENGINEER, api_settings

REQUEST = b"GET /x HTTP/1.1\r\nHost: pboss\r\n\r\n"


class _Socket:
    """A transport recording what reaches the socket, one entry per write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = self.aborted = self.eof = False

    def write(self, data: bytes) -> None:
        assert not (self.closed or self.eof), "written after close or end of stream"
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def write_eof(self) -> None:
        self.eof = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


async def _settle() -> None:
    """Let the loop run the app and the flushes it scheduled."""
    for _ in range(20):
        await asyncio.sleep(0)


def _serve(app: Any) -> tuple[CoalescingHTTPProtocol, _Socket]:
    """pboss's HTTP protocol serving `app` on a recording socket."""
    config = uvicorn.Config(app, http=HTTP_PROTOCOL, log_level="warning", access_log=False)
    config.load()
    kwargs: dict[str, Any] = {"config": config, "server_state": ServerState()}
    if "app_state" in inspect.signature(config.http_protocol_class).parameters:
        kwargs["app_state"] = {}  # the lifespan state, which older uvicorn does not pass
    protocol = config.http_protocol_class(**kwargs)
    socket = _Socket()
    protocol.connection_made(socket)  # type: ignore[arg-type]
    return protocol, socket


def test_an_answer_leaves_in_one_write_head_and_body_together() -> None:
    asyncio.run(_test_an_answer_leaves_in_one_write_head_and_body_together())


async def _test_an_answer_leaves_in_one_write_head_and_body_together() -> None:
    protocol, socket = _serve(Response(b'{"data":{}}', media_type="application/json"))
    protocol.data_received(REQUEST)
    await _settle()
    assert len(socket.writes) == 1
    head, body = socket.writes[0].split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 11" in head
    assert body == b'{"data":{}}'


def test_each_answer_on_a_keep_alive_connection_is_one_write_in_order() -> None:
    asyncio.run(_test_each_answer_on_a_keep_alive_connection_is_one_write_in_order())


async def _test_each_answer_on_a_keep_alive_connection_is_one_write_in_order() -> None:
    protocol, socket = _serve(Response(b"ok"))
    for _ in range(3):
        protocol.data_received(REQUEST)
        await _settle()
    assert len(socket.writes) == 3
    assert all(
        w.startswith(b"HTTP/1.1 200 OK") and w.endswith(b"\r\n\r\nok") for w in socket.writes
    )


def test_a_streamed_chunk_is_sent_before_the_app_waits_for_the_next() -> None:
    asyncio.run(_test_a_streamed_chunk_is_sent_before_the_app_waits_for_the_next())


async def _test_a_streamed_chunk_is_sent_before_the_app_waits_for_the_next() -> None:
    """Only writes made in the same loop step are held together: a chunk is on the socket
    before the app, waiting for more to send, sends the next one."""
    more = asyncio.Event()

    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await more.wait()
        await send({"type": "http.response.body", "body": b"second"})

    protocol, socket = _serve(streaming)
    protocol.data_received(REQUEST)
    await _settle()
    sent = b"".join(socket.writes)
    assert b"transfer-encoding: chunked" in sent and sent.endswith(b"5\r\nfirst\r\n")
    more.set()
    await _settle()
    assert b"".join(socket.writes).endswith(b"5\r\nfirst\r\n6\r\nsecond\r\n0\r\n\r\n")


def test_held_writes_keep_their_order_and_are_flushed_by_close_or_dropped_by_abort() -> None:
    asyncio.run(_test_held_writes_keep_their_order_and_are_flushed_by_close_or_dropped_by_abort())


async def _test_held_writes_keep_their_order_and_are_flushed_by_close_or_dropped_by_abort() -> None:
    loop = asyncio.get_running_loop()
    socket = _Socket()
    transport = CoalescingTransport(socket, loop)  # type: ignore[arg-type]
    transport.write(b"a")
    assert socket.writes == [] and transport.get_write_buffer_size() == 1
    transport.writelines([memoryview(b"b"), bytearray(b"c")])  # b goes with a; c is held
    assert socket.writes == [b"ab"] and transport.get_write_buffer_size() == 1
    await _settle()  # the end of the step sends what is held
    assert socket.writes == [b"ab", b"c"]
    transport.write(b"d")
    transport.write_eof()  # what is held goes before the end of the stream
    assert socket.writes == [b"ab", b"c", b"d"] and socket.eof

    socket = _Socket()
    transport = CoalescingTransport(socket, loop)  # type: ignore[arg-type]
    transport.write(b"e")
    transport.close()
    assert socket.writes == [b"e"] and socket.closed
    transport.write(b"after close")
    await _settle()
    assert socket.writes == [b"e"]

    socket = _Socket()
    transport = CoalescingTransport(socket, loop)  # type: ignore[arg-type]
    transport.write(b"lost")
    transport.abort()
    await _settle()
    assert socket.writes == [] and socket.aborted


def test_pboss_serve_runs_uvicorn_with_the_coalescing_protocol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pboss.http.app

    served: dict[str, Any] = {}
    monkeypatch.setattr(pboss.http.app, "create_app", lambda settings: "the app")
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: served.update(kw, app=app))
    result = CliRunner().invoke(cli_app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served["app"] == "the app" and served["port"] == 8123
    assert import_from_string(served["http"]) is CoalescingHTTPProtocol


def test_a_real_server_on_the_protocol_answers_over_one_keep_alive_connection(
    demo_store: GraphStore,
) -> None:
    """uvicorn on its own event loop and a real socket, serving the pboss app as `pboss serve`
    does: several answers, GraphQL and not, each whole, on one connection."""
    app = create_app(api_settings(), store=demo_store)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=HTTP_PROTOCOL, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        headers = {"Authorization": f"Bearer {ENGINEER}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            for _ in range(3):
                answer = client.post("/graphql", json={"query": "{ products { id } }"})
                assert answer.status_code == 200
                assert answer.json()["data"]["products"]
                assert client.get("/healthz").json() == {"status": "ok"}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
