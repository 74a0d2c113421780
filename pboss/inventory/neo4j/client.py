"""The one wrapper around the Neo4j driver: every query pboss runs goes through it.

It owns the driver and decides, once, how a query runs (in the spirit of Infrahub's `database/`):

- reads (`read`, `fetch`) run as one auto-commit statement: RUN and PULL go out together and the
  answer ends it, where a managed transaction adds BEGIN and a COMMIT round trip (≈ 0.5 ms of a
  5 ms riders query). A retryable failure (lost connection, leader switch, transient error) runs
  the statement again in a managed read transaction, with the driver's back-off;
- writes (`write`) run in one explicit write transaction, retried on transient errors within a
  bounded time (`_retrying`; so the work must be idempotent);
- scans (`stream`) stream records from one read, for whole-store exports;
- every query is named (`queries.base.Query`): it is timed into a Prometheus histogram by name
  and READ/WRITE, and counted (`queries_run`, which tests use to count round trips);
- routing: every read session is opened with READ access and every write with WRITE access,
  so with a `neo4j://` URI (a cluster, Aura, or a single server, whose routing table names
  itself) the driver sends reads to followers or read replicas and writes to the leader;
- causal consistency (`pboss.inventory.consistency`): every session is given the bookmarks of
  the request being served, and a committed write hands its bookmarks back to the request, so a
  read after a write, on any server, waits until that server has it;
- sessions do not ask for the server's "unknown label/type/property" notices: the fixed queries
  name relationship types that may not exist yet (HOLDS before any hold), and the driver would
  log a warning of several kB for each, on every request;
- a server that cannot be reached (after the driver's retries, bounded by `outage.Timeouts`) is
  raised as `StoreUnavailable`, and from then on at once, until a probe finds it back
  (`outage.Breaker`).

Only this module and the launcher (`local.py`) use the driver.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from neo4j import (
    READ_ACCESS,
    WRITE_ACCESS,
    Bookmarks,
    Driver,
    GraphDatabase,
    ManagedTransaction,
    NotificationDisabledCategory,
    NotificationMinimumSeverity,
    Record,
    Result,
    Session,
    Transaction,
)
from neo4j import Query as DriverQuery
from neo4j.exceptions import (
    ClientError,
    DatabaseUnavailable,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from prometheus_client import CollectorRegistry, Histogram

from pboss.inventory import consistency
from pboss.inventory.consistency import InvalidBookmark
from pboss.inventory.errors import StoreUnavailable
from pboss.inventory.neo4j.outage import UNREACHABLE, Breaker, Timeouts
from pboss.inventory.neo4j.queries.base import Access, Query

T = TypeVar("T")
R = TypeVar("R")
#: Notification categories no session asks the server for (see the module docstring).
log = logging.getLogger(__name__)
QUIET = [NotificationDisabledCategory.UNRECOGNIZED]
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: First and longest pause between attempts of a transaction (`Neo4jClient._retrying`).
_FIRST_RETRY_DELAY = 0.05
_LAST_RETRY_DELAY = 1.0
#: The server's code for a bookmark it cannot have issued (another database, another cluster).
_INVALID_BOOKMARK = "Neo.ClientError.Transaction.InvalidBookmark"
#: The module's own registry, for a client that is given no histogram (tests, tools).
REGISTRY = CollectorRegistry(auto_describe=True)


def query_histogram(registry: CollectorRegistry | None = None) -> Histogram:
    """The histogram a client times its queries into: `pboss_neo4j_query_seconds{name, access}`."""
    return Histogram(
        "pboss_neo4j_query_seconds",
        "Neo4j query latency by query name and access (READ or WRITE).",
        ["name", "access"],
        buckets=_BUCKETS,
        registry=registry or REGISTRY,
    )


_DEFAULT_HISTOGRAM: Histogram | None = None


def _default_histogram() -> Histogram:
    global _DEFAULT_HISTOGRAM
    if _DEFAULT_HISTOGRAM is None:
        _DEFAULT_HISTOGRAM = query_histogram()
    return _DEFAULT_HISTOGRAM


class WriteTx:
    """One managed write transaction as the client hands it out: runs named queries, timed."""

    __slots__ = ("client", "tx")

    def __init__(self, client: Neo4jClient, tx: ManagedTransaction | Transaction):
        self.client = client
        self.tx = tx

    def run(self, query: Query, **params: Any) -> list[dict[str, Any]]:
        """Run one named query in this transaction; its rows as plain dicts."""
        started = time.perf_counter()
        rows = [r.data() for r in self.tx.run(query.text, params)]
        self.client.observe(query, time.perf_counter() - started)
        return rows

    def rows(self, query: Query, **params: Any) -> list[dict[str, Any]]:
        """Like `run`, for queries returning only maps and lists (already plain Python values
        as the driver decodes them): no `Record.data()` walk over every nested value."""
        started = time.perf_counter()
        rows = [dict(r.items()) for r in self.tx.run(query.text, params)]
        self.client.observe(query, time.perf_counter() - started)
        return rows


class Neo4jClient:
    """The driver, its sessions and how every named query runs; see the module docstring."""

    def __init__(
        self,
        uri: str,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        *,
        driver: Driver | None = None,
        histogram: Histogram | None = None,
        timeouts: Timeouts | None = None,
    ):
        self.uri = uri
        self.database = database
        self.timeouts = timeouts or Timeouts()
        self.driver: Driver = driver or GraphDatabase.driver(
            uri,
            auth=auth,
            notifications_disabled_categories=QUIET,
            **self.timeouts.driver_config(),
        )
        #: fails calls at once while the server is known to be away (outage.py)
        self.breaker = Breaker(self.driver.verify_connectivity, self.timeouts.probe_every)
        self.histogram = histogram or _default_histogram()
        self._session_config: dict[str, Any] = {
            "database": database,
            "notifications_disabled_categories": QUIET,
        }
        self.queries_run = 0
        #: Called with (query name, seconds) after each query (tests and tools listen here).
        self.on_query: Callable[[str, float], None] | None = None

    # ---- timing ---------------------------------------------------------------------------------

    def observe(self, query: Query, seconds: float) -> None:
        """Count and time one query that ran."""
        self.queries_run += 1
        self.histogram.labels(query.name, query.kind.value).observe(seconds)
        if self.on_query is not None:
            self.on_query(query.name, seconds)

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Raise an unreachable server as the project's own error, with a clear message, and
        at once while it is known to be away (the breaker, outage.py)."""
        self.breaker.check()
        try:
            yield
        except (ServiceUnavailable, SessionExpired, DatabaseUnavailable) as error:
            # the address and the driver's words are for the operator's log, not for callers
            if not self.breaker.down:
                log.warning("Neo4j at %s cannot be reached: %s", self.uri, error)
            self.breaker.opened()
            raise StoreUnavailable(UNREACHABLE) from error
        except ClientError as error:
            if error.code != _INVALID_BOOKMARK:
                raise
            raise InvalidBookmark(
                f"{consistency.HEADER}: this database does not know the bookmark sent (from "
                "another database or cluster?); send one this service returned"
            ) from error

    def _session(self, access: str, **config: Any) -> tuple[Session, frozenset[str]]:
        """A session with `access` routing and the bookmarks of the request being served; its
        second value is those bookmarks (to tell `_committed` what a write superseded)."""
        scope = consistency.current()
        given = scope.bookmarks if scope is not None else frozenset()
        options = {**self._session_config, **config}
        if given:
            options["bookmarks"] = Bookmarks.from_raw_values(given)
        return self.driver.session(default_access_mode=access, **options), given

    @staticmethod
    def _committed(session: Session, given: frozenset[str]) -> None:
        """Hand a committed write's bookmarks to the request being served (if any)."""
        scope = consistency.current()
        if scope is not None:
            scope.committed(given, session.last_bookmarks().raw_values)

    # ---- reads ----------------------------------------------------------------------------------

    def read(self, query: Query, **params: Any) -> list[dict[str, Any]]:
        """One read query, its rows as plain dicts (`Record.data()`)."""
        return self._read_once(query, params, lambda result: [r.data() for r in result])

    def fetch(self, query: Query, **params: Any) -> list[Record]:
        """One read query, its records as the driver decoded them: for the hot reads, whose
        columns are plain values, lists and property maps (`data()` would copy them again)."""
        return self._read_once(query, params, list)

    def _read_once(
        self, query: Query, params: dict[str, Any], rows: Callable[[Result], list[R]]
    ) -> list[R]:
        """Run one read statement as an auto-commit transaction, else managed (see the module
        docstring): only the managed path retries; a non-retryable error is raised as it is."""
        started = time.perf_counter()
        text: Any = query.text  # a fixed text, every value a parameter
        with self._reachable():
            try:
                session, _ = self._session(READ_ACCESS)
                with session:
                    records = rows(session.run(DriverQuery(text), params))
            except (Neo4jError, DriverError) as error:
                if not error.is_retryable():
                    raise
                records = self.execute_read(lambda tx: rows(tx.run(text, params)))
        self.observe(query, time.perf_counter() - started)
        return records

    def execute_read(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run `work` in one read transaction (retried on transient errors, `_retrying`)."""
        with self._reachable():
            return self._retrying(READ_ACCESS, work)

    def _retrying(self, access: str, work: Callable[[Any], T]) -> T:
        """Run `work` in one explicit transaction, again after a transient error (a deadlock, a
        database starting) or once on a fresh connection after a pooled one the server closed;
        within `timeouts.retry` seconds, never sleeping past them (the driver's own loop sleeps
        its next back-off, up to half a minute, after its budget is spent)."""
        deadline = time.monotonic() + self.timeouts.retry
        delay = _FIRST_RETRY_DELAY
        reconnected = False
        while True:
            try:
                session, given = self._session(access)
                with session as s:
                    with s.begin_transaction() as tx:
                        result = work(tx)
                        tx.commit()
                    if access == WRITE_ACCESS:
                        self._committed(s, given)
                    return result
            except IncompleteCommit:
                raise  # it may have committed: not ours to run again
            except (ServiceUnavailable, SessionExpired):
                if reconnected:
                    raise
                reconnected = True
                continue
            except (Neo4jError, DriverError) as error:
                if not error.is_retryable() or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, _LAST_RETRY_DELAY)

    def stream(self, query: Query, **params: Any) -> Iterator[Record]:
        """Stream one read query's records (for scans over a whole kind or type); timed until
        the last record. Scanning a kind or type the graph does not hold yet is fine, so no
        notice at all is asked for."""
        started = time.perf_counter()
        with self._reachable():
            session, _ = self._session(
                READ_ACCESS,
                notifications_disabled_categories=None,
                notifications_min_severity=NotificationMinimumSeverity.OFF,
            )
            with session:
                text: Any = query.text
                yield from session.run(DriverQuery(text), params)
        self.observe(query, time.perf_counter() - started)

    # ---- writes ---------------------------------------------------------------------------------

    def write(self, work: Callable[[WriteTx], T]) -> T:
        """Run `work` in one write transaction, retried on transient errors (deadlocks, leader
        switches) within `timeouts.retry` (`_retrying`), so `work` may run more than once."""
        with self._reachable():
            return self._retrying(WRITE_ACCESS, lambda tx: work(WriteTx(self, tx)))

    def execute_write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run `work` on the driver's own managed write transaction (for tools and tests that
        write ad-hoc Cypher; pboss's code uses `write`)."""
        with self._reachable():
            session, given = self._session(WRITE_ACCESS)
            with session:
                result = session.execute_write(work)
                self._committed(session, given)
                return result

    def run_auto(self, query: Query, **params: Any) -> None:
        """Run one statement on its own, outside an explicit transaction: schema statements and
        `CALL { ... } IN TRANSACTIONS`, which may not run inside one."""
        started = time.perf_counter()
        text: Any = query.text
        with self._reachable():
            session, given = self._session(WRITE_ACCESS)
            with session:
                session.run(DriverQuery(text), params).consume()
                self._committed(session, given)
        self.observe(query, time.perf_counter() - started)

    def close(self) -> None:
        """Close the driver and its connections."""
        self.driver.close()


__all__ = ["Access", "Neo4jClient", "Query", "WriteTx", "query_histogram"]
