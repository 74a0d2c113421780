"""PBOSS_DATA_DIR: where `open_store` keeps the embedded store, or nowhere when empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from pboss.bootstrap import open_store
from pboss.config import Settings
from pboss.inventory.memory.store import MemoryStore


def test_an_empty_data_dir_means_memory_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBOSS_DATA_DIR", "")
    assert Settings().data_dir is None
    store = open_store(Settings())
    assert isinstance(store, MemoryStore) and store.durable is None


def test_the_default_is_a_directory_under_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PBOSS_DATA_DIR")
    assert Settings(_env_file=None).data_dir == Path("var/pboss")  # type: ignore[call-arg]


def test_open_store_keeps_the_store_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", data_compact_mb=1)
    store = open_store(settings)
    assert isinstance(store, MemoryStore) and store.durable is not None
    assert store.durable.compact_bytes == 1024 * 1024
    store.insert_new([{"kind": "Site", "id": "S-KEPT"}])
    store.close()
    again = open_store(settings)
    assert again.get("S-KEPT") is not None
    again.close()
