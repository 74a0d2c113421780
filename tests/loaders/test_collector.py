"""A load leaves the process's runtime settings alone: the garbage collector's thresholds and
frozen objects and the GIL switch interval are the same during a load (pass 1 and pass 2) and
after it, refused or not (library code does not tune the interpreter; the issue forbids it)."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import pytest

from pboss.inventory.memory.store import MemoryStore
from pboss.loaders import LoadOptions, LoadRefused, load_paths
from tests.loaders.conftest import BundleMaker


def _settings() -> tuple[Any, ...]:
    return gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count(), gc.isenabled()


def _load_a_refused_bundle(make_bundle: BundleMaker) -> None:
    """A load pass 1 refuses (a Site's households is not a number)."""

    def bad(nodes: list[dict], edges: list[dict]) -> None:
        next(r for r in nodes if r.get("id") == "B-DH")["households"] = "many"

    with pytest.raises(LoadRefused):
        load_paths(MemoryStore(), [make_bundle(bad, name="bad")])


def test_a_load_never_changes_the_collector_or_the_switch_interval(
    make_bundle: BundleMaker,
) -> None:
    from pboss.loaders import apply, validate

    before = _settings()
    seen: list[tuple[Any, ...]] = []
    check_parsed = validate.Validator.check_parsed
    add = apply.BatchWriter.add

    def spy_check(self: validate.Validator, chunk: validate.Chunk) -> None:
        seen.append(("pass 1", _settings()))
        check_parsed(self, chunk)

    def spy_add(self: apply.BatchWriter, row: Any) -> None:
        seen.append(("pass 2", _settings()))
        add(self, row)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(validate.Validator, "check_parsed", spy_check)
        mp.setattr(apply.BatchWriter, "add", spy_add)
        load_paths(MemoryStore(), [make_bundle()])
    assert {p for p, _ in seen} == {"pass 1", "pass 2"}
    assert all(s == before for _, s in seen)
    assert _settings() == before

    _load_a_refused_bundle(make_bundle)
    assert _settings() == before


def test_frozen_objects_stay_as_they_were(tiny_bundle: Path) -> None:
    """A process that froze its start-up objects (the server does) keeps them frozen."""
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
