"""Running the delivery worker on its own thread and event loop, as the app's lifespan does.

The worker (`pboss.hub.delivery`) is async; the API's lifespan, the sweeper beside it and the
tests are not. `start_delivery` starts it on a thread of its own, so deliveries never wait
behind the API's requests; `stop` ends it cleanly (last batches recorded, leases released) and
`halt` stops it dead, as kill -9 would (the crash drill of the tests and the benchmark).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pboss.config import Settings
from pboss.hub.delivery import DeliveryWorker
from pboss.inventory.store import GraphStore

if TYPE_CHECKING:
    from pboss.metrics import Metrics

log = logging.getLogger(__name__)


class DeliveryHandle:
    """A worker running on its own thread and event loop; `stop()` ends it (idempotent)."""

    def __init__(self, worker: DeliveryWorker):
        self.worker = worker
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pboss-hub", daemon=True)

    def start(self, timeout: float = 30.0) -> DeliveryHandle:
        """Start the thread and wait until the worker is up (its start-up error is raised)."""
        self._thread.start()
        self._ready.wait(timeout)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.worker.start())
        except BaseException as exc:  # the caller of start() sees it
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def call(self, work: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Run a coroutine function on the worker's loop and wait for its result (tests)."""
        return asyncio.run_coroutine_threadsafe(work(), self._loop).result(timeout)

    def halt(self, timeout: float = 10.0) -> None:
        """Stop dead, as a killed process would: nothing more is recorded and no lease is given
        back (the crash drill of the tests and the benchmark: the leases must run out)."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._halt(), self._loop)
        self._thread.join(timeout)

    async def _halt(self) -> None:
        self.worker.abandon()
        mine = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not mine]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.get_running_loop().stop()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker (records the last batches and releases the leases) and the thread."""
        if not self._thread.is_alive():
            return
        try:
            self.call(self.worker.stop, timeout)
        except Exception:
            log.exception("hub: stopping the delivery worker failed")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)


def start_delivery(
    store: GraphStore, settings: Settings, metrics: Metrics | None = None, **options: Any
) -> DeliveryHandle:
    """Start this process's delivery worker on its own thread (the app's lifespan does this)."""
    return DeliveryHandle(DeliveryWorker(store, settings, metrics=metrics, **options)).start()
