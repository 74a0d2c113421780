"""Causal consistency across API replicas: the bookmarks one request reads after and writes.

A Neo4j cluster serves reads from followers, which may lag the leader. A bookmark names a
committed transaction; a read session given bookmarks waits (on whichever server it lands) until
that server has applied them. pboss carries them per request, not per process, so any replica
serves any client:

- the HTTP layer (`http/consistency.py`) opens a `CausalScope` for each request
  (`causal_scope`), seeded with the bookmarks the client sent (`X-Pboss-Bookmark`, an opaque
  token: `encode`/`decode`), and puts it in the `CAUSAL` context variable for the request's
  store calls (they run on other threads, in copies of the request's context, which share the
  scope object);
- the Neo4j client (`neo4j/client.py`) gives every session the scope's bookmarks and, after
  each write commits, replaces the ones that write superseded by the bookmarks it returned;
- the response carries the scope's token after a write, so the client's next request, on any
  replica, reads at least what it wrote.

The token is base64url of a JSON list of the driver's raw bookmark strings, sorted (`encode`), so
it is opaque to clients and stable for equal sets. The embedded store has one process and no
followers: it ignores the scope. A token that is not one `encode` made is refused as
`InvalidBookmark` before anything runs.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pboss.inventory.errors import PbossError

#: The request header carrying a client's bookmark token, and the response header returning one.
HEADER = "X-Pboss-Bookmark"
#: Longest token accepted (a cluster's bookmarks are a few hundred bytes; this bounds the work).
MAX_TOKEN_CHARS = 4096
#: Most raw bookmarks one token may carry.
MAX_BOOKMARKS = 16


class InvalidBookmark(PbossError):
    """A bookmark token that pboss did not make (malformed), or one the database refuses."""

    code = "bad_bookmark"


class CausalScope:
    """The bookmarks one request's store calls read after, and whether the request wrote.

    Thread-safe: a request's store calls run on several store threads at once (DataLoaders)."""

    __slots__ = ("_bookmarks", "_lock", "wrote")

    def __init__(self, bookmarks: Iterable[str] = ()):
        self._bookmarks: frozenset[str] = frozenset(bookmarks)
        self._lock = threading.Lock()
        #: True once a write transaction of this request committed
        self.wrote = False

    @property
    def bookmarks(self) -> frozenset[str]:
        """The raw bookmarks a session opened now must wait for."""
        with self._lock:
            return self._bookmarks

    def committed(self, given: frozenset[str], returned: Iterable[str]) -> None:
        """Record a write that committed in a session opened with `given`: the bookmarks it
        `returned` supersede those (the transaction began after them); any added meanwhile by
        another of this request's writes stay."""
        with self._lock:
            self._bookmarks = (self._bookmarks - given) | frozenset(returned)
            self.wrote = True

    def token(self) -> str | None:
        """The opaque token of the current bookmarks, or None when there are none."""
        current = self.bookmarks
        return encode(current) if current else None


#: The scope of the request being served (None outside a request: background work, tools).
CAUSAL: ContextVar[CausalScope | None] = ContextVar("pboss_causal_scope", default=None)


def current() -> CausalScope | None:
    """The scope of the request this code serves, if any."""
    return CAUSAL.get()


@contextmanager
def causal_scope(bookmarks: Iterable[str] = ()) -> Iterator[CausalScope]:
    """Serve the enclosed work in a new scope that reads after `bookmarks` (a client's token,
    `decode`d); the previous scope is back afterwards."""
    scope = CausalScope(bookmarks)
    reset = CAUSAL.set(scope)
    try:
        yield scope
    finally:
        CAUSAL.reset(reset)


def encode(bookmarks: Iterable[str]) -> str:
    """The opaque token for a set of raw bookmarks (sorted, so equal sets give equal tokens)."""
    raw = json.dumps(sorted(bookmarks), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> frozenset[str]:
    """The raw bookmarks of a token `encode` made; `InvalidBookmark` saying why otherwise."""
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidBookmark(
            f"{HEADER}: {len(token)} characters, over the limit of {MAX_TOKEN_CHARS}"
        )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:  # not base64, not UTF-8, not JSON
        raise InvalidBookmark(
            f"{HEADER}: not a bookmark pboss returned (send back the header's value as it was)"
        ) from exc
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise InvalidBookmark(f"{HEADER}: not a bookmark pboss returned (expected a list)")
    if len(values) > MAX_BOOKMARKS:
        raise InvalidBookmark(
            f"{HEADER}: {len(values)} bookmarks, over the limit of {MAX_BOOKMARKS}"
        )
    return frozenset(values)


__all__ = [
    "CAUSAL",
    "HEADER",
    "CausalScope",
    "InvalidBookmark",
    "causal_scope",
    "current",
    "decode",
    "encode",
]
