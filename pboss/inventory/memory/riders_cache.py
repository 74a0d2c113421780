"""Answers of `riders` on the embedded store, kept until a write touches what they were made of.

Riders of an OLT on `medium` walk thousands of nodes (its reverse closure, each service's customer,
each listed service's chain for its health); the answer depends on nothing else. So each answer is
kept with the set of nodes it read, and a commit drops exactly the answers that read a node the
commit touched: the graph notes every node a mutator reached, both ends of an added or removed
edge included (`recording.py`), and the store adds the elements its history entries name (a
status set in place). A new failure edge into a closure touches its target, which the closure
read, so the answer goes; a write elsewhere in the network leaves it. At most `size` answers are
kept, the least recently used dropped first. A commit checks each kept answer's node set against
the few nodes it touched (no index from node to answers: that would cost far more memory than the
answers, for a check of microseconds).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable

from pboss.inventory.results import Riders

RidersKey = tuple[tuple[str, ...], int, str | None]


class RidersCache:
    """Riders answers by (resource ids, first, after), each with the nodes it depends on."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._answers: OrderedDict[RidersKey, tuple[Riders, frozenset[Hashable]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: RidersKey) -> Riders | None:
        """A copy of the kept answer (lists copied, elements shared), or None."""
        found = self._answers.get(key)
        if found is None:
            self.misses += 1
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return _copy(found[0])

    def put(self, key: RidersKey, answer: Riders, reads: Iterable[Hashable]) -> None:
        """Keep an answer and the nodes it read; the oldest goes past `size`."""
        self._answers.pop(key, None)
        self._answers[key] = (_copy(answer), frozenset(reads))
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)

    def invalidate(self, touched: Iterable[Hashable]) -> None:
        """Drop every answer that read one of these nodes."""
        if not self._answers:
            return
        nodes = touched if isinstance(touched, (set, frozenset)) else set(touched)
        stale = [key for key, (_, reads) in self._answers.items() if not reads.isdisjoint(nodes)]
        for key in stale:
            del self._answers[key]

    def entries(self) -> list[tuple[RidersKey, Riders, frozenset[Hashable]]]:
        """Every kept answer with the nodes it read, the least recently used first (a snapshot
        keeps them)."""
        return [(key, answer, reads) for key, (answer, reads) in self._answers.items()]

    def clear(self) -> None:
        """Drop every answer (the store was cleared)."""
        self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)


def _copy(answer: Riders) -> Riders:
    """A copy whose lists a caller may change without changing the kept answer; the elements
    are the store's copies made for this answer, shared read-only by the callers."""
    return answer.model_copy(
        update={
            "resource_ids": list(answer.resource_ids),
            "items": [
                r.model_copy(update={"impaired_by": list(r.impaired_by)}) for r in answer.items
            ],
            "totals": answer.totals.model_copy(deep=True),
        }
    )
