"""The first load through Neo4j's bulk importer (`pboss neo4j import`, loaders/initial.py).

The Neo4j tests run their own launcher instance (own home and port): the import stops and starts
the server, which the session's shared Neo4j must never see. They compare `pboss export` of the
imported graph with that of the transactional loader's, on the demo network with awkward values
added and on the generated `small` metro.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pboss.inventory.neo4j import importer, local
from pboss.inventory.neo4j.imported import ImportCheckFailed, first_node
from pboss.inventory.neo4j.store import Neo4jStore
from pboss.loaders import LoadError, LoadOptions, LoadRefused, export_bundle, load_paths
from pboss.loaders import initial as initial_mod
from pboss.loaders.generator import generate
from pboss.loaders.import_csv import CsvSink, encode
from pboss.loaders.initial import DatabaseNotEmpty, initial_import, write_import_files
from pboss.loaders.native import EDGE_DIR, NODE_DIR
from tests.loaders.conftest import BundleMaker, column_of, line_of
from tests.neo4j_server import free_port

IN_CI = os.environ.get("CI", "").lower() == "true"


def awkward(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """Values the CSV format cannot carry as such, and an edge given twice (the later wins)."""
    olt = next(n for n in nodes if n["kind"] == "OLT")
    olt["note"] = 'line one\nline two, "quoted"'  # a line break: patched in after the import
    olt["tags"] = ["a\x1fb", "c"]  # the array delimiter inside an item
    olt["empty"] = []  # an empty list
    olt["ratio"] = 0.25
    olt["flags"] = [True, False]
    site = next(n for n in nodes if n["kind"] == "Site")
    site["code2"] = 42  # a number here ...
    other = [n for n in nodes if n["kind"] == "Site"][1]
    other["code2"] = "forty-two"  # ... text there: a second file of the kind
    other["blank"] = ""  # an empty text is kept as one
    other["comma, key"] = "x,y"
    first = dict(edges[0])
    edges.append(dict(first, note="given again: this one wins"))


# ---- without Neo4j: the CSV encoding ------------------------------------------------------------


def test_encode_gives_typed_fields_or_leaves_a_value_to_patch() -> None:
    """Each storable value gets the importer's type; what CSV cannot say exactly gets None."""
    assert encode(True) == ("boolean", "true")
    assert encode(7) == ("long", "7")
    assert encode(0.5) == ("double", "0.5")
    assert encode('say "hi", ok') == ("string", '"say ""hi"", ok"')
    assert encode([1, 2]) == ("long[]", "1\x1f2")
    assert encode([1.5, 2]) == ("double[]", "1.5\x1f2.0")
    assert encode(["a", "b"]) == ("string[]", '"a\x1fb"')
    for value in ("two\nlines", "nul\x00", [], ["a\x1fb"], [""], float("nan"), [float("inf")]):
        assert encode(value) is None, value


def test_sink_splits_a_kind_whose_column_changes_type(tmp_path: Path) -> None:
    """A column that is a number in one row and text in another gives the kind a second file;
    the header lists every column with its type, the id first."""
    sink = CsvSink(tmp_path)
    sink.add("f:1", [{"id": "S1", "kind": "Site", "code2": 1}], [], [], [])
    sink.add("f:2", [{"id": "S2", "kind": "Site", "code2": "x", "name": "n"}], [], [], [])
    sink.add("f:3", [{"id": "S3", "kind": "Site", "name": "m"}], [], [], [])
    written = sink.close()
    headers = [g.header.read_text().strip() for g in written.plan.nodes]
    assert headers == [
        "id:ID,kind:string,code2:long,name:string",
        "id:ID,kind:string,code2:string,name:string",
    ]
    assert [g.names for g in written.plan.nodes] == [("Entity", "Place", "Site")] * 2
    assert written.plan.nodes[0].data.read_text() == '"S1","Site",1\n"S3","Site",,"m"\n'


def test_csv_only_writes_files_and_the_admin_command(tmp_path: Path, make_bundle: BundleMaker):
    """For a server elsewhere: the files and the `neo4j-admin database import full` line."""
    report = write_import_files([make_bundle()], tmp_path / "csv")
    command = (tmp_path / "csv" / initial_mod.COMMAND_FILE).read_text()
    assert command.startswith("neo4j-admin database import full neo4j --id-type=string")
    assert "--nodes=Entity:Place:Site=nodes-Site-0.header.csv,nodes-Site-0.csv" in command
    assert report.command == command.strip()
    assert sum(report.written.nodes_by_kind.values()) == 90


def test_csv_only_refuses_a_bad_row_and_leaves_no_files(tmp_path: Path, make_bundle: BundleMaker):
    """A bad row: the same file:line:column issue as `pboss load`, and no files."""

    def bad(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
        next(n for n in nodes if n["kind"] == "OLT")["status"] = "SHINY"

    bundle = make_bundle(bad)
    with pytest.raises(LoadRefused) as caught:
        write_import_files([bundle], tmp_path / "csv")
    assert "SHINY" in str(caught.value) or "status" in str(caught.value)
    assert not (tmp_path / "csv").exists()


def test_the_command_writes_files_or_exits_1_on_a_bad_row(
    tmp_path: Path, make_bundle: BundleMaker
) -> None:
    """`pboss neo4j import --csv-only`: the files and the command line, exit 0; a bad row:
    its place on stderr, exit 1; a path that is not there: exit 2, no traceback."""
    from typer.testing import CliRunner

    from pboss.cli.main import app

    runner = CliRunner()
    out = tmp_path / "csv"
    done = runner.invoke(app, ["neo4j", "import", str(make_bundle()), "--csv-only", str(out), "-q"])
    assert done.exit_code == 0, done.output
    assert "neo4j-admin database import full neo4j" in done.output
    assert (out / initial_mod.COMMAND_FILE).is_file()

    def bad(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
        next(n for n in nodes if n["kind"] == "Splitter")["ratio"] = 3000

    bundle = make_bundle(bad, name="bad")
    done = runner.invoke(app, ["neo4j", "import", str(bundle), "--csv-only", str(tmp_path / "x")])
    assert done.exit_code == 1 and "Splitter.ndjson:" in done.output
    done = runner.invoke(app, ["neo4j", "import", str(tmp_path / "none"), "--csv-only", "new"])
    assert done.exit_code == 2 and "no such file" in done.output
    done = runner.invoke(app, ["neo4j", "import", str(bundle), "--csv-only", str(tmp_path)])
    assert done.exit_code == 2 and "not an empty directory" in done.output
    assert (bundle / "manifest.json").is_file()  # nothing of the directory named was touched


# ---- with a launcher instance of our own ---------------------------------------------------------


@pytest.fixture(scope="module")
def import_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A launcher home of this module's own (own port), running; stopped at the end."""
    home = tmp_path_factory.mktemp("import-home")
    try:
        local.start(home, port=free_port(), heap="512m", pagecache="128m", owner_pid=os.getpid())
    except local.Neo4jLaunchError as exc:
        if IN_CI:
            pytest.fail(f"CI=true and the launcher could not start: {exc}", pytrace=False)
        pytest.skip(f"no local Neo4j launcher: {exc}")
    try:
        yield home
    finally:
        local.stop(home)
        shutil.rmtree(home, ignore_errors=True)


def _store(home: Path) -> Neo4jStore:
    info = local.status(home)
    assert info is not None and info["alive"], "the instance is not running"
    return Neo4jStore(str(info["uri"]), local.credentials(home))


@pytest.fixture
def empty_home(import_home: Path) -> Iterator[Path]:
    """The module's instance, emptied before and after the test."""
    store = _store(import_home)
    store.clear()
    store.close()
    yield import_home
    store = _store(import_home)
    store.clear()
    store.close()


def _export(home: Path, out: Path) -> dict[str, str]:
    """`pboss export` of the instance: every file's text (manifest included)."""
    store = _store(home)
    try:
        export_bundle(store, out)
    finally:
        store.close()
    files = [out / "manifest.json"]
    files += sorted((out / NODE_DIR).glob("*")) + sorted((out / EDGE_DIR).glob("*"))
    return {str(p.relative_to(out)): p.read_text(encoding="utf-8") for p in files}


def _same_graph_both_ways(home: Path, bundle: Path, tmp: Path) -> dict[str, str]:
    """Load transactionally, export, empty; bulk-import, export; assert both exports equal."""
    store = _store(home)
    try:
        load_paths(store, [bundle], LoadOptions())
    finally:
        store.close()
    transactional = _export(home, tmp / "by-load")
    store = _store(home)
    store.clear()
    store.close()
    report = initial_import([bundle], home)
    assert report.settled is not None
    imported = _export(home, tmp / "by-import")
    assert imported.keys() == transactional.keys()
    for name in transactional:
        assert imported[name] == transactional[name], name
    return imported


@pytest.mark.neo4j
def test_bulk_import_gives_the_transactional_loaders_graph(
    empty_home: Path, make_bundle: BundleMaker, tmp_path: Path
) -> None:
    """The demo network with awkward values (patched properties, a column of two types, an
    edge given twice): the imported graph exports byte for byte as the loaded one."""
    exported = _same_graph_both_ways(empty_home, make_bundle(awkward), tmp_path)
    olt = next(
        json.loads(line) for line in exported["nodes/OLT.ndjson"].splitlines() if '"note"' in line
    )
    assert olt["note"] == 'line one\nline two, "quoted"' and olt["empty"] == []
    assert olt["tags"] == ["a\x1fb", "c"]
    assert not (empty_home / importer.WORK_DIR).exists()  # scratch files gone


@pytest.mark.neo4j
def test_bulk_import_of_small_gives_the_transactional_loaders_graph(
    empty_home: Path, tmp_path: Path
) -> None:
    """`pboss generate --scale small`: the bulk import and `pboss load` give the same export."""
    bundle = tmp_path / "small"
    generate(bundle, "small", 1)
    exported = _same_graph_both_ways(empty_home, bundle, tmp_path)
    manifest = json.loads(exported["manifest.json"])
    assert sum(f["rows"] for f in manifest["files"]) > 40_000


@pytest.mark.neo4j
def test_a_non_empty_database_is_refused(
    empty_home: Path, make_bundle: BundleMaker, tmp_path: Path
) -> None:
    """Refused with a clear message naming a node it holds; nothing written, still running."""
    store = _store(empty_home)
    try:
        load_paths(store, [make_bundle()], LoadOptions())
    finally:
        store.close()
    before = _export(empty_home, tmp_path / "before")
    other = make_bundle(awkward, name="other")
    with pytest.raises(DatabaseNotEmpty, match=r"not empty.*pboss load"):
        initial_import([other], empty_home)
    assert _export(empty_home, tmp_path / "after") == before


@pytest.mark.neo4j
def test_a_bad_row_is_refused_at_its_place_with_nothing_imported(
    empty_home: Path, make_bundle: BundleMaker
) -> None:
    """A bad row: file:line:column as `pboss load` says it; the database stays empty."""

    def bad(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
        next(n for n in nodes if n["kind"] == "Splitter")["ratio"] = 3000

    bundle = make_bundle(bad)
    path = bundle / NODE_DIR / "Splitter.ndjson"
    line = line_of(path, '"ratio":3000')
    with pytest.raises(LoadRefused) as caught:
        initial_import([bundle], empty_home)
    issue = caught.value.issues[0]
    assert (issue.file, issue.line, issue.column) == (
        str(path),
        line,
        column_of(path, line, "ratio"),
    )
    store = _store(empty_home)
    try:
        assert first_node(store.client) is None
    finally:
        store.close()
    assert not (empty_home / importer.WORK_DIR).exists()


@pytest.mark.neo4j
def test_a_failing_import_leaves_nothing_imported(
    empty_home: Path, make_bundle: BundleMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The importer refusing: the server is back, the database as it was (empty)."""

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise importer.ImportFailed("the importer stopped (simulated)")

    monkeypatch.setattr(importer, "run_import", refuse)
    with pytest.raises(LoadError, match="nothing was imported"):
        initial_import([make_bundle()], empty_home)
    store = _store(empty_home)
    try:
        assert first_node(store.client) is None
    finally:
        store.close()


@pytest.mark.neo4j
def test_a_failing_check_after_the_swap_puts_the_old_database_back(
    empty_home: Path, make_bundle: BundleMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check after the import failing (here: told so): the import is undone, the database
    is the empty one it replaced, and the server runs."""

    def differ(*args: Any, **kwargs: Any) -> Any:
        raise ImportCheckFailed("the imported database differs (simulated)")

    monkeypatch.setattr(initial_mod, "settle", differ)
    with pytest.raises(LoadError, match="undone"):
        initial_import([make_bundle()], empty_home)
    store = _store(empty_home)
    try:
        assert first_node(store.client) is None
    finally:
        store.close()
    assert not (empty_home / importer.WORK_DIR).exists()
