"""When pass 2 stops (the store refuses a batch, the user interrupts): the rejects are kept and
nothing more is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, load_paths
from pboss.loaders.issues import LoadError
from pboss.loaders.progress import NoProgress
from tests.loaders.conftest import BundleMaker


class _FailingAt:
    """A store whose n-th bulk write raises `error` (and counts every bulk write)."""

    def __init__(self, store: GraphStore, at: int, error: BaseException):
        self._store, self._at, self._error = store, at, error
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def insert_new(self, nodes: Any, edges: Any = ()) -> Any:
        self.calls += 1
        if self.calls >= self._at:
            raise self._error
        return self._store.insert_new(nodes, edges)


def _with_a_bad_row(nodes: list[dict], edges: list[dict]) -> None:
    next(r for r in nodes if r.get("id") == "B-DH")["households"] = -4


def test_rejects_are_kept_when_a_later_batch_is_refused(
    store: GraphStore, make_bundle: BundleMaker, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.ndjson"
    failing = _FailingAt(store, 2, RuntimeError("disk full"))
    options = LoadOptions(skip_invalid=True, rejects=rejects, batch_size=5, workers=1)
    with pytest.raises(LoadError, match="disk full"):
        load_paths(failing, [make_bundle(_with_a_bad_row)], options)  # type: ignore[arg-type]
    assert rejects.exists() and "B-DH" in rejects.read_text(encoding="utf-8")


class _InterruptWhileWriting(NoProgress):
    """Ctrl-C arriving in pass 2 while rows are being gathered into a batch."""

    def phase(self, name: str, total_bytes: int) -> None:
        self.writing = name == "write"

    def advance(self, nbytes: int = 0, rows: int = 0) -> None:
        if getattr(self, "writing", False) and rows:
            raise KeyboardInterrupt


def test_an_interrupt_sends_no_further_batch(store: GraphStore, make_bundle: BundleMaker) -> None:
    counting = _FailingAt(store, 10**6, RuntimeError("never"))
    with pytest.raises(KeyboardInterrupt):
        load_paths(
            counting,  # type: ignore[arg-type]
            [make_bundle()],
            LoadOptions(batch_size=10_000, workers=1),
            progress=_InterruptWhileWriting(),
        )
    assert counting.calls == 0
    assert store.counts() == {}
