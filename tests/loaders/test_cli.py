"""The `pboss generate/load/export` commands: exit codes and messages, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pboss.cli.main import app
from pboss.inventory.memory.store import MemoryStore
from pboss.loaders import LoadError, load_directory
from pboss.loaders.progress import PlainProgress, make_progress
from tests.loaders.conftest import DATA, BundleMaker

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_generate_then_dry_run_load(tmp_path: Path) -> None:
    out = tmp_path / "metro"
    code, text = _run("generate", "--scale", "tiny", "--seed", "2", "--out", str(out), "-q")
    assert code == 0 and "nodes" in text and (out / "manifest.json").exists()
    code, text = _run("generate", "--scale", "tiny", "--out", str(out), "-q")
    assert code == 2 and "--force" in text
    code, text = _run("load", str(out), "--dry-run", "--store", "memory", "-q")
    assert code == 0 and "dry run: nothing written" in text
    code, text = _run("load", str(out), "--store", "memory", "--json", "-q")
    assert code == 0
    report = json.loads(text[text.index("{") :])
    assert report["written"]["nodes_added"] == sum(report["nodes"].values())


def test_index_entries_moves_the_index_to_disk_with_the_same_answer(
    tmp_path: Path, make_bundle: BundleMaker
) -> None:
    bundle = make_bundle(lambda n, e: next(r for r in n if r["id"] == "ONT-1").update(site="X"))
    answers = []
    for extra in ([], ["--index-entries", "2"]):
        code, text = _run("load", str(bundle), "--store", "memory", "-q", "--json", *extra)
        report = json.loads(text[text.index("{") : text.rindex("}") + 1])
        answers.append((code, report["nodes"], report["edges"], report["invalid_rows"]))
    assert answers[0] == answers[1] and answers[0][0] == 1 and answers[0][3] > 0
    code, text = _run("load", str(bundle), "--store", "memory", "--index-entries", "0")
    assert code == 2 and "index-entries" in text


def test_bad_rows_exit_1_with_locations(make_bundle: BundleMaker) -> None:
    bundle = make_bundle(lambda n, e: next(r for r in n if r["id"] == "ONT-1").update(site="X"))
    code, text = _run("load", str(bundle), "--store", "memory", "-q")
    assert code == 1
    assert f"{bundle / 'nodes' / 'ONT.ndjson'}:1:" in text and "unknown site 'X'" in text
    assert "nothing written" in text


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, text = _run("load", str(tmp_path / "missing"), "--store", "memory", "-q")
    assert code == 2 and "no such file or directory" in text
    code, text = _run("load", str(DATA / "tietong_circuits.csv"), "--mapping", "nope", "-q")
    assert code == 2 and "shipped mappings" in text
    code, text = _run("load", str(tmp_path), "--encoding", "klingon", "--store", "memory", "-q")
    assert code == 2
    code, text = _run(
        "load", str(tmp_path), "--store", "neo4j", "--neo4j-uri", "bolt://127.0.0.1:1"
    )
    assert code == 2 and "cannot open the neo4j store" in text


def test_feed_with_mapping_and_skip_invalid(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.ndjson"
    code, text = _run(
        "load", str(DATA / "tietong_circuits.csv"), "--mapping", "tietong-circuits",
        "--store", "memory", "--skip-invalid", "--rejects", str(rejects), "-q",
    )  # fmt: skip
    # a fresh memory store has none of our sites: every row is unmatched and rejected
    assert code == 0 and "no site matches" in text and len(rejects.read_text().splitlines()) == 5


def test_export_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    code, text = _run("export", str(tmp_path), "--store", "memory", "-q")
    assert code == 2 and "already holds a bundle" in text


def test_load_directory_loads_bundles_below(tmp_path: Path, tiny_bundle: Path) -> None:
    store = MemoryStore()
    report = load_directory(store, tiny_bundle)
    assert report.result is not None and report.result.nodes_added > 0
    parent = tmp_path / "feeds"
    (parent / "x").mkdir(parents=True)
    for path in tiny_bundle.rglob("*"):
        target = parent / "x" / path.relative_to(tiny_bundle)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    again = load_directory(MemoryStore(), parent)
    assert again.result is not None and again.result.nodes_added == report.result.nodes_added
    with pytest.raises(LoadError, match="not a directory"):
        load_directory(store, tmp_path / "x-not-there")
    with pytest.raises(LoadError, match="holds no pboss bundle"):
        load_directory(store, tmp_path / "feeds" / "x" / "nodes")


def test_plain_progress_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = make_progress(stream=out)
    assert isinstance(progress, PlainProgress)
    progress.phase("validate", 100)
    progress.advance(50, rows=10)
    progress.done()
    assert out.getvalue().startswith("[validate] 10 rows") and "\x1b" not in out.getvalue()
