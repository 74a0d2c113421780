"""How long pboss waits for Neo4j, and how it answers at once while Neo4j is away.

`Timeouts` bounds each wait the driver would otherwise stretch to a minute or more (opening a
connection, waiting for one from the pool, retrying a transaction). `Breaker` remembers that the
server could not be reached: until a probe (`driver.verify_connectivity()`, at most one every
`probe_every` seconds, one caller at a time) finds it back, every call fails at once with
`StoreUnavailable` instead of queueing behind the driver's retries, so callers can be told to
retry (HTTP 503 with Retry-After); recovery needs no restart of pboss.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pboss.inventory.errors import StoreUnavailable

UNREACHABLE = "the inventory store cannot be reached; nothing was done, try again"


@dataclass(frozen=True)
class Timeouts:
    """Bounds on waiting for Neo4j, in seconds (the settings `PBOSS_NEO4J_*`; docs/api.md)."""

    #: opening one TCP connection and its Bolt handshake
    connect: float = 3.0
    #: getting a connection from the pool, opening one included
    acquire: float = 5.0
    #: retrying a transaction that failed with a transient error or a lost connection
    retry: float = 3.0
    #: how often, while the server is away, one call probes whether it is back
    probe_every: float = 1.0

    def driver_config(self) -> dict[str, float]:
        """The driver's own settings for these bounds."""
        return {
            "connection_timeout": self.connect,
            "connection_acquisition_timeout": self.acquire,
            "max_transaction_retry_time": self.retry,
        }


class Breaker:
    """Whether the server answered lately; see the module docstring."""

    def __init__(self, probe: Callable[[], None], probe_every: float = 1.0):
        self._probe = probe
        self._probe_every = probe_every
        self._down_since: float | None = None
        self._last_probe = 0.0
        self._probing = False
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        """True while the server is known to be unreachable."""
        return self._down_since is not None

    def check(self) -> None:
        """Return when the server may be called; raise StoreUnavailable at once while it is
        known to be away (one caller per `probe_every` seconds probes it first)."""
        if self._down_since is None:
            return
        now = time.monotonic()
        with self._lock:
            if self._probing or now - self._last_probe < self._probe_every:
                raise StoreUnavailable(UNREACHABLE)
            self._probing = True
            self._last_probe = now
        try:
            self._probe()
        except Exception as exc:
            raise StoreUnavailable(UNREACHABLE) from exc
        else:
            self.closed()
        finally:
            with self._lock:
                self._probing = False

    def opened(self) -> None:
        """The server could not be reached: fail fast from now on, probing now and then."""
        with self._lock:
            if self._down_since is None:
                self._down_since = self._last_probe = time.monotonic()

    def closed(self) -> None:
        """The server answered: calls go through again."""
        self._down_since = None
