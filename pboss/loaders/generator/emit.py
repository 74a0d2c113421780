"""The generator's output: rows go straight to a bundle, nothing is kept but counts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pboss.loaders.native_writer import BundleWriter
from pboss.loaders.progress import NoProgress, Progress

_TICK = 5000
#: Subscribers kept per district for the generated field history (a uniform sample).
SUBSCRIBER_SAMPLE = 2000


@dataclass(frozen=True)
class Subscriber:
    """A customer the generator made, as the field history needs it."""

    customer: str
    site: str
    product: str
    sla_tier: str
    enterprise: bool


class Emitter:
    """Writes generated nodes and edges to a bundle and counts them."""

    def __init__(self, writer: BundleWriter, progress: Progress | None = None):
        self.writer = writer
        self.progress = progress or NoProgress()
        self.nodes = 0
        self.edges = 0
        self._pending = 0
        #: district code -> a uniform sample of its subscribers (reservoir sampling)
        self.subscribers: dict[str, list[Subscriber]] = {}
        self._seen: dict[str, int] = {}
        self._sample_rng = random.Random("subscribers")

    def remember(self, district: str, subscriber: Subscriber) -> None:
        """Keep a subscriber in its district's sample (each equally likely to stay)."""
        kept = self.subscribers.setdefault(district, [])
        seen = self._seen[district] = self._seen.get(district, 0) + 1
        if len(kept) < SUBSCRIBER_SAMPLE:
            kept.append(subscriber)
        elif (k := self._sample_rng.randrange(seen)) < SUBSCRIBER_SAMPLE:
            kept[k] = subscriber

    def _tick(self) -> None:
        """Count a row; report progress every few thousand."""
        self._pending += 1
        if self._pending >= _TICK:
            self.progress.advance(rows=self._pending)
            self._pending = 0

    def node(self, kind: str, node_id: str, **fields: Any) -> str:
        """Write one node (None fields are left out) and return its id."""
        row = {"id": node_id, "kind": kind}
        row.update((k, v) for k, v in fields.items() if v is not None)
        self.writer.node(row)
        self.nodes += 1
        self._tick()
        return node_id

    def edge(self, etype: str, src: str, dst: str, **props: Any) -> None:
        """Write one edge."""
        row = {"src": src, "dst": dst}
        row.update((k, v) for k, v in props.items() if v is not None)
        self.writer.edge(etype, row)
        self.edges += 1
        self._tick()

    def flush_progress(self) -> None:
        """Report the rows not yet reported."""
        self.progress.advance(rows=self._pending)
        self._pending = 0
