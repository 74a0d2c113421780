"""Prometheus metrics of one app: HTTP requests, GraphQL operations, timed store calls, and the
event hub's deliveries (outcomes, delay from commit to a 2xx, each held listener's lag).

Each app gets its own registry (several apps in one process, as in tests, do not clash), and the
store is wrapped in `InstrumentedStore`, which times every GraphStore protocol call by method and
store.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pboss.inventory.neo4j.client import query_histogram
from pboss.inventory.store import GraphStore

#: The GraphStore protocol's methods: the calls that are timed.
STORE_METHODS = tuple(
    name
    for name in vars(GraphStore)
    if not name.startswith("_") and callable(getattr(GraphStore, name))
)
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class Metrics:
    """The metric families of one app, in their own registry."""

    def __init__(self, max_operation_names: int = 200):
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "pboss_http_requests_total",
            "HTTP requests by route, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "pboss_http_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.operations = Counter(
            "pboss_graphql_operations_total",
            "GraphQL operations by name, type and outcome (ok or error).",
            ["operation", "type", "outcome"],
            registry=self.registry,
        )
        self.operation_seconds = Histogram(
            "pboss_graphql_operation_seconds",
            "GraphQL operation latency by name and type.",
            ["operation", "type"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_seconds = Histogram(
            "pboss_store_call_seconds",
            "GraphStore call latency by store and method.",
            ["store", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "pboss_store_call_errors_total",
            "GraphStore calls that raised, by store, method and error class.",
            ["store", "method", "error"],
            registry=self.registry,
        )
        self.hub_deliveries = Counter(
            "pboss_hub_deliveries_total",
            "Event hub deliveries by outcome: delivered, retried (a failed try to be retried), "
            "dead (given up: a dead letter), replayed, replay_failed.",
            ["outcome"],
            registry=self.registry,
        )
        self.hub_delivery_seconds = Histogram(
            "pboss_hub_delivery_seconds",
            "Seconds from an event's commit to its callback's 2xx answer.",
            buckets=_DELIVERY_BUCKETS,
            registry=self.registry,
        )
        self.hub_lag = Gauge(
            "pboss_hub_listener_lag_events",
            "Events of the log a listener held by this process has not yet been given or passed.",
            ["listener"],
            registry=self.registry,
        )
        #: Every Neo4j query by name and access mode, when the app's store is Neo4j.
        self.neo4j_query_seconds = query_histogram(self.registry)
        self._names: set[str] = set()
        self._names_lock = threading.Lock()
        self._max_names = max_operation_names

    def operation_label(self, name: str | None) -> str:
        """A bounded label for a client-chosen operation name (`other` past the cap or if odd)."""
        if not name:
            return "anonymous"
        if not _NAME.match(name):
            return "other"
        with self._names_lock:
            if name in self._names:
                return name
            if len(self._names) >= self._max_names:
                return "other"
            self._names.add(name)
            return name


class InstrumentedStore:
    """A GraphStore proxy that times every protocol call; other attributes pass through."""

    def __init__(self, store: GraphStore, metrics: Metrics):
        self._store = store
        self._metrics = metrics
        self.name = store.name
        for method in STORE_METHODS:
            setattr(self, method, self._timed(method, getattr(store, method)))

    @property
    def inner(self) -> GraphStore:
        """The wrapped store."""
        return self._store

    def _timed(self, method: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        seconds = self._metrics.store_seconds.labels(self._store.name, method)

        @wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                self._metrics.store_errors.labels(
                    self._store.name, method, type(exc).__name__
                ).inc()
                raise
            finally:
                seconds.observe(time.perf_counter() - start)

        return call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def instrument(store: GraphStore, metrics: Metrics) -> GraphStore:
    """Wrap a store so every protocol call is timed into these metrics."""
    return cast(GraphStore, InstrumentedStore(store, metrics))
