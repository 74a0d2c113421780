"""Partner feeds reach the store a server runs: named at start-up (PBOSS_LOAD_FEEDS, or files in
PBOSS_LOAD_DIR/feeds/<mapping>/), atomic, and `pboss serve` says what it loaded; a `--store memory`
load says it is a throw-away store and why its rows match no site."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pboss.bootstrap import seed_store
from pboss.cli.main import app as cli
from pboss.config import Settings
from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from pboss.loaders import LoadError, LoadRefused
from pboss.loaders.startup import FeedSpec, parse_feed_specs
from tests.loaders.conftest import DATA, BundleMaker

CIRCUITS = DATA / "tietong_circuits.csv"
COVERAGE_GBK = DATA / "oriental_cable_coverage_gbk.csv"


def _valid_circuits(tmp_path: Path) -> Path:
    """The Tietong list without its two bad rows (an unknown site, an unknown rate)."""
    lines = CIRCUITS.read_text(encoding="utf-8").splitlines()[:4]
    path = tmp_path / "tt.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _valid_coverage(folder: Path) -> Path:
    """The Oriental Cable list in UTF-8, without its unmatched building."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = COVERAGE_GBK.read_text(encoding="gbk").splitlines()[:3]
    path = folder / "coverage.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_feeds_named_at_start_up_reach_the_served_store(store: GraphStore, tmp_path: Path) -> None:
    circuits = _valid_circuits(tmp_path)
    settings = Settings(demo=True, load_feeds=f"{circuits}:tietong-circuits", _env_file=None)  # type: ignore[call-arg]
    lines = seed_store(store, settings)
    assert lines[0] == "loaded the demo network (the store was empty)"
    assert lines[1].startswith(f"applied feed {circuits} through tietong-circuits: 3 row(s)")
    assert "nodes PartnerLink 3" in lines[1] and "3 added" in lines[1]
    assert "drift: 1 node(s) not in it (1 with riders)" in lines[1]  # the demo's PL-1
    link = store.get("PL-TT-SH-0101")
    assert link is not None and link.owner == "P-TT"
    again = seed_store(store, settings)  # a restart on a kept store (Neo4j): nothing changes
    assert "0 added, 0 updated, 3 unchanged" in again[0]


def test_load_dir_feeds_folder_and_what_serve_prints(
    tmp_path: Path, make_bundle: BundleMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_dir = tmp_path / "load"
    make_bundle(name="load/network")
    coverage = _valid_coverage(load_dir / "feeds" / "oriental-cable-coverage")
    circuits = _valid_circuits(tmp_path)
    monkeypatch.setenv("PBOSS_LOAD_DIR", str(load_dir))
    monkeypatch.setenv("PBOSS_LOAD_FEEDS", f"{circuits}:tietong-circuits")
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    printed = [line for line in result.output.splitlines() if line.startswith("start-up: ")]
    assert len(printed) == 3
    assert printed[0].startswith(f"start-up: loaded bundle(s) {load_dir / 'network'}: ")
    assert "Customer 7, NE 4, OLT 2" in printed[0] and "90 added" in printed[0]
    assert printed[1].startswith(
        f"start-up: applied feed {coverage} through oriental-cable-coverage"
    )
    assert "nodes PartnerAccess 2" in printed[1]
    assert printed[2].startswith(f"start-up: applied feed {circuits} through tietong-circuits")

    served = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    store = served.state.pboss["store"]
    assert store.get("PA-B-DH-OC") is not None and store.get("PL-TT-SH-0102") is not None
    assert served.state.pboss["loaded"] == [p.removeprefix("start-up: ") for p in printed]


def test_an_invalid_feed_stops_the_start_with_its_rows(tmp_path: Path) -> None:
    settings = Settings(load_feeds=f"{CIRCUITS}:tietong-circuits", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(LoadRefused) as refused:
        create_app(settings)
    assert [(i.line, i.column) for i in refused.value.issues] == [(5, 3), (6, 6)]
    assert f"{CIRCUITS}:5:3" in str(refused.value)


def test_feed_settings_are_checked() -> None:
    assert parse_feed_specs(" a.csv:tietong-circuits , b.csv:oc.toml:gbk ,") == [
        FeedSpec(Path("a.csv"), "tietong-circuits"),
        FeedSpec(Path("b.csv"), "oc.toml", "gbk"),
    ]
    with pytest.raises(LoadError, match=r"entry 'a\.csv': expected path:mapping"):
        parse_feed_specs("a.csv")


def test_a_memory_load_says_it_is_throw_away_and_why_nothing_matches(tmp_path: Path) -> None:
    args = ["load", str(CIRCUITS), "--mapping", "tietong-circuits", "--store", "memory", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "--store memory is a throw-away store" in result.output
    assert "every row says 'no site matches'" in result.output
    assert "PBOSS_LOAD_FEEDS=file.csv:mapping" in result.output
    assert "warning: the store holds no sites, so no row can match one" in result.output
