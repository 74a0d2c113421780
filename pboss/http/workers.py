"""`pboss serve --workers N`: N full API processes on one port, one shared store.

uvicorn's own workers option forks N processes that each import `worker_app` and build a full
app (its own store connection, sweeper, publisher, deliverer and metrics), as N replicas behind a
balancer would be. The start-up load (PBOSS_LOAD_DIR, PBOSS_LOAD_FEEDS, the demo network) runs
once, in the parent, before the workers start (`load_once`), never once per worker. Only a shared
store can be served this way: each worker of the embedded store would hold its own graph.
"""

from __future__ import annotations

from fastapi import FastAPI

from pboss.bootstrap import open_store, seed_store
from pboss.config import Settings, get_settings
from pboss.http.app import create_app

#: What `uvicorn.run` imports in each worker (a factory: called once per worker process).
WORKER_APP = "pboss.http.workers:worker_app"


class NeedsSharedStore(ValueError):
    """`--workers` above 1 on the embedded store (each worker would hold its own graph)."""


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse several workers on a store that lives in one process."""
    if workers > 1 and settings.store != "neo4j":
        raise NeedsSharedStore(
            f"--workers {workers} needs a store the workers share: the {settings.store} store "
            "lives in one process; serve Neo4j (--store neo4j) or run one worker"
        )


def load_once(settings: Settings) -> list[str]:
    """Run the start-up load in this (the parent) process; one line each saying what it did."""
    store = open_store(settings)
    try:
        return seed_store(store, settings)
    finally:
        store.close()


def worker_settings(settings: Settings) -> Settings:
    """A worker's settings: the parent's, without the start-up load the parent already ran."""
    return settings.model_copy(update={"load_dir": None, "load_feeds": None, "demo": False})


def worker_app() -> FastAPI:
    """One worker's full app, on the settings of the environment (PBOSS_*, set by `serve`)."""
    return create_app(worker_settings(get_settings()))


__all__ = ["WORKER_APP", "NeedsSharedStore", "check_workers", "load_once", "worker_app"]
