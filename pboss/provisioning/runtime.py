"""Process wiring: the app's provisioning service and its background expiry sweeper.

The app creates one sweeper per process in its lifespan and puts `handle.service` into its state
under "provisioning" (the GraphQL resolvers use it). Several API processes may each run one: each
expiry is its own transaction that locks the hold and re-checks it, so a hold is expired once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from pboss.inventory.store import GraphStore
from pboss.provisioning.notify import CrmNotifier
from pboss.provisioning.service import ProvisioningService, SweepReport
from pboss.provisioning.settings import provisioning_settings

log = logging.getLogger(__name__)


class SweeperHandle:
    """A running sweeper thread; `stop()` ends it (idempotent) and waits for the current sweep."""

    def __init__(self, service: ProvisioningService, interval: float):
        self.service = service
        self.interval = interval
        self.sweeps = 0
        self.last: SweepReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pboss-sweeper", daemon=True)

    def start(self) -> SweeperHandle:
        """Start sweeping every `interval` seconds, the first sweep right away."""
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = self.service.sweep_expired()
                self.sweeps += 1
                if self.last.expired or self.last.flagged:
                    log.info(
                        "sweep: %d hold(s) expired, %d work order(s) flagged",
                        len(self.last.expired),
                        len(self.last.flagged),
                    )
            except Exception:  # a store hiccup must not kill the sweeper; try next round
                log.exception("provisioning sweep failed")
            self._stop.wait(self.interval)

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end and wait for it."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)


def start_sweeper(
    store: GraphStore,
    settings: Any = None,
    *,
    service: ProvisioningService | None = None,
    notifier: CrmNotifier | None = None,
) -> SweeperHandle:
    """Start the expiry/SLA sweeper for this process; `handle.service` is the service to share.

    `settings` is the app's Settings (its `provisioning` attribute is used when present, else
    PBOSS_PROVISIONING_* from the environment).
    """
    svc = service or ProvisioningService(
        store, settings=provisioning_settings(settings), notifier=notifier
    )
    return SweeperHandle(svc, svc.settings.sweep_interval_seconds).start()


def stop(handle: SweeperHandle) -> None:
    """Stop a sweeper started by `start_sweeper`."""
    handle.stop()
