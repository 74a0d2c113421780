"""One delivery to one callback: the signed POST, and the tries with back-off until it is accepted.

The body is the TMF envelope `{eventId, eventTime, eventType, event}` in the listener's view
(`views.body_for`), sent as compact JSON; for a listener with `batch_size` > 1 it is always a
JSON array of such envelopes (1 to `batch_size`, in sequence order), with headers giving the
count and the first and last event ids, and a 2xx accepts every event in it. The signature
(`signing.sign`) covers those exact bytes and is made afresh for each try, so a retry is never
refused as too old. A 2xx answer is
delivered; anything else (another status, a redirect, which is never followed, a refused or
broken connection, no whole answer within `hub_timeout_seconds`) is a failed try, retried after
an exponential back-off with full jitter, until `hub_max_attempts`. An answer's body is read to
its end (so the kept-alive connection is reused) but only a short excerpt is kept, and a body
over 64 KiB is cut off, so a receiver cannot make the deliverer hold a large answer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from pboss.hub.signing import (
    ATTEMPT_HEADER,
    EVENT_COUNT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    FIRST_EVENT_ID_HEADER,
    LAST_EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    sign,
)
from pboss.hub.views import body_for
from pboss.inventory.events import StoredEvent
from pboss.inventory.listeners import Listener

#: How much of a refusal's body a dead letter's reason quotes.
EXCERPT_BYTES = 200
#: The most of an answer's body read so its connection can be reused.
DRAIN_LIMIT = 64 * 1024
USER_AGENT = "pboss-hub/1"

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with full jitter: try n waits uniform(0, min(cap, base * 2**(n-1)))."""

    base: float
    cap: float
    max_attempts: int

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait after failed try number `attempt` (1 = the first)."""
        ceiling = min(self.cap, self.base * (2 ** min(attempt - 1, 62)))
        return rng.uniform(0.0, ceiling)


@dataclass(frozen=True)
class Outcome:
    """How one event went: delivered or not, after how many tries, and the last failure."""

    delivered: bool
    attempts: int
    reason: str = ""


def payload(event: StoredEvent, partner: str | None) -> bytes:
    """The bytes POSTed for this event: the listener's view in the TMF event envelope (encoded
    once for every listener with the same view: an event's body never changes)."""
    return _encoded(event.id, partner, event)


#: How many encoded bodies are kept (the latest; a listener's page is at most 100 events).
ENCODED_KEPT = 4096
_ENCODED: dict[tuple[str, str | None], bytes] = {}
_ENCODED_LOCK = threading.Lock()  # workers of several threads (tests) share it


def _encoded(event_id: str, partner: str | None, event: StoredEvent) -> bytes:
    key = (event_id, partner)
    raw = _ENCODED.get(key)
    if raw is None:
        raw = _encode(event, partner)
        with _ENCODED_LOCK:
            _ENCODED[key] = raw
            while len(_ENCODED) > ENCODED_KEPT:
                del _ENCODED[next(iter(_ENCODED))]  # the oldest
    return raw


def _encode(event: StoredEvent, partner: str | None) -> bytes:
    view: dict[str, Any] = dict(body_for(event, partner))
    view["eventId"] = event.id
    view["eventType"] = event.type
    view.setdefault("eventTime", event.at.isoformat())
    view.setdefault("event", {})
    return json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode()


def batch_payload(events: Sequence[StoredEvent], partner: str | None) -> bytes:
    """The bytes POSTed for a batch: a JSON array of the events' envelopes, in order."""
    return b"[" + b",".join(payload(event, partner) for event in events) + b"]"


def headers(
    listener: Listener, events: Sequence[StoredEvent], raw: bytes, attempt: int
) -> dict[str, str]:
    """The signed request's headers for one try: the event's id and type for one event a POST;
    the count and the first and last ids for a batched listener's array."""
    out = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(listener.secret, raw),
        ATTEMPT_HEADER: str(attempt),
    }
    if listener.batch_size > 1:
        out[EVENT_COUNT_HEADER] = str(len(events))
        out[FIRST_EVENT_ID_HEADER] = events[0].id
        out[LAST_EVENT_ID_HEADER] = events[-1].id
    else:
        out[EVENT_ID_HEADER] = events[0].id
        out[EVENT_TYPE_HEADER] = events[0].type
    return out


@functools.lru_cache(maxsize=1024)
def callback_url(callback: str) -> httpx.URL:
    """A callback parsed once (httpx parses a string URL on every request: ~1/5 of the
    deliverer's own per-event cost measured, more than the body and the signature)."""
    return httpx.URL(callback)


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def _drain(response: httpx.Response, keep: int = EXCERPT_BYTES) -> bytes:
    """Read an answer's body to its end, keeping its first `keep` bytes, so the connection goes
    back to the pool (an unread answer closes it); a body over `DRAIN_LIMIT` is not worth the
    connection and is cut off."""
    got = b""
    seen = 0
    async for chunk in response.aiter_raw():
        if len(got) < keep:
            got += chunk[: keep - len(got)]
        seen += len(chunk)
        if seen > DRAIN_LIMIT:
            break
    return got


def _failure(exc: Exception, timeout: float) -> str:
    """A dead letter's reason for a try that got no answer."""
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return f"no answer within {timeout:g} s (timeout)"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {_one_line(str(exc)) or type(exc).__name__}"
    return f"{type(exc).__name__}: {_one_line(str(exc))}"[:300]


class Sender:
    """POSTs events over one shared client, retrying as `backoff` says."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        backoff: Backoff,
        timeout: float,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ):
        self.client = client
        self.backoff = backoff
        self.timeout = timeout
        self.sleep = sleep
        self.rng = rng or random.Random()

    async def try_once(
        self, listener: Listener, events: Sequence[StoredEvent], raw: bytes, attempt: int
    ) -> str:
        """One signed POST; "" when the callback accepted it (2xx), else why not."""
        request = self.client.build_request(
            "POST",
            callback_url(listener.callback),
            content=raw,
            headers=headers(listener, events, raw, attempt),
        )
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.send(request, stream=True)
                try:
                    status = response.status_code
                    excerpt = await _drain(response)
                    if 200 <= status < 300:
                        return ""
                    if response.is_redirect:
                        where = response.headers.get("location", "?")
                        return f"HTTP {status}: redirects to {where} (redirects are not followed)"
                    text = _one_line(excerpt.decode("utf-8", errors="replace"))
                    return f"HTTP {status}: {text}".rstrip(": ")
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.HTTPError) as exc:
            return _failure(exc, self.timeout)

    async def deliver(
        self,
        listener: Listener,
        events: Sequence[StoredEvent],
        *,
        on_retry: Callable[[], None] | None = None,
    ) -> Outcome:
        """Send one POST's events (one event, or a batched listener's array of 1 to its
        `batch_size`) until accepted or the tries run out; every try sends the same bytes,
        signed afresh."""
        if listener.batch_size > 1:
            raw = batch_payload(events, listener.owner_partner)
        else:
            [event] = events
            raw = payload(event, listener.owner_partner)
        reason = ""
        for attempt in range(1, self.backoff.max_attempts + 1):
            reason = await self.try_once(listener, events, raw, attempt)
            if not reason:
                return Outcome(True, attempt)
            if attempt == self.backoff.max_attempts:
                break
            if on_retry is not None:
                on_retry()
            await self.sleep(self.backoff.delay(attempt, self.rng))
        return Outcome(False, self.backoff.max_attempts, reason)
