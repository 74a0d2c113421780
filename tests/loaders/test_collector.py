"""A load tunes the garbage collector for itself and leaves the process as it found it."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from pboss.inventory.memory.store import MemoryStore
from pboss.loaders import LoadOptions, LoadRefused, load_paths
from tests.loaders.conftest import BundleMaker


def _load_a_refused_bundle(make_bundle: BundleMaker) -> None:
    """A load pass 1 refuses (a Site's households is not a number)."""

    def bad(nodes: list[dict], edges: list[dict]) -> None:
        next(r for r in nodes if r.get("id") == "B-DH")["households"] = "many"

    with pytest.raises(LoadRefused):
        load_paths(MemoryStore(), [make_bundle(bad, name="bad")])


def test_thresholds_come_back_after_a_load_and_a_refused_one(make_bundle: BundleMaker) -> None:
    before = gc.get_threshold()
    load_paths(MemoryStore(), [make_bundle()])
    assert gc.get_threshold() == before

    _load_a_refused_bundle(make_bundle)
    assert gc.get_threshold() == before


def test_the_gil_switch_interval_comes_back_after_a_load(make_bundle: BundleMaker) -> None:
    """Pass 1 shortens it for the index's disk thread (loader._quick_handoffs), then restores
    it, also when the load is refused."""
    before = sys.getswitchinterval()
    seen: list[float] = []
    from pboss.loaders import validate

    original = validate.Validator.check_parsed

    def spy(self: validate.Validator, chunk: validate.Chunk) -> None:
        seen.append(sys.getswitchinterval())
        original(self, chunk)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(validate.Validator, "check_parsed", spy)
        load_paths(MemoryStore(), [make_bundle()])
    assert seen and max(seen) <= 0.0005 < before
    assert sys.getswitchinterval() == before

    _load_a_refused_bundle(make_bundle)
    assert sys.getswitchinterval() == before


def test_frozen_objects_are_handed_back_or_left_as_they_were(tiny_bundle: Path) -> None:
    """Pass 2 freezes pass 1's index; it unfreezes only what it froze in a process that had
    nothing frozen (the server freezes its start-up objects and must keep them frozen)."""
    gc.unfreeze()
    try:
        load_paths(MemoryStore(), [tiny_bundle], LoadOptions(workers=1))
        assert gc.get_freeze_count() == 0
        gc.freeze()
        frozen = gc.get_freeze_count()
        load_paths(MemoryStore(), [tiny_bundle], LoadOptions(workers=1))
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()  # an app of this test process froze its objects: only speed is at stake
