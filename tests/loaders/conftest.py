"""Fixtures for the loader tests: a generated tiny metro, and small hand-made bundles to break."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from pboss.inventory.demo import demo_rows
from pboss.loaders import loader, spill
from pboss.loaders.generator import generate
from pboss.loaders.native_writer import BundleWriter

DATA = Path(__file__).parent / "data"
BundleMaker = Callable[..., Path]


@pytest.fixture(params=["index in memory", "index on disk"])
def index_place(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with pass 1's id index in memory, and again with it moved to disk every two
    entries and checked three rows at a time, so look-ups go through the on-disk path."""
    if request.param == "index on disk":
        monkeypatch.setattr(spill, "SPILL_AT", 2)
        monkeypatch.setattr(loader, "CHUNK", 3)
    return str(request.param)


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pboss generate --scale tiny --seed 1`, made once per session."""
    out = tmp_path_factory.mktemp("tiny") / "bundle"
    generate(out, "tiny", 1)
    return out


def write_bundle(
    directory: Path, nodes: Sequence[dict[str, Any]], edges: Sequence[dict[str, Any]]
) -> Path:
    """Write raw demo-style rows (`kind`/`type` inside) as a native bundle."""
    with BundleWriter(directory) as out:
        for n in nodes:
            out.node(n)
        for e in edges:
            row = dict(e)
            out.edge(row.pop("type"), row)
    return directory


@pytest.fixture
def make_bundle(tmp_path: Path) -> BundleMaker:
    """Write the demo network as a bundle, after `change(nodes, edges)` edits its rows."""

    def make(
        change: Callable[[list[dict], list[dict]], None] | None = None, name: str = "b"
    ) -> Path:
        nodes, edges = demo_rows()
        if change is not None:
            change(nodes, edges)
        return write_bundle(tmp_path / name, nodes, edges)

    return make


def line_of(path: Path, needle: str) -> int:
    """The 1-based number of the first line of a file containing `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def column_of(path: Path, line: int, key: str) -> int:
    """The 1-based column of `"key":` on a line of a JSON-lines file."""
    text = path.read_text(encoding="utf-8").splitlines()[line - 1]
    return text.index(f'"{key}":') + 1
