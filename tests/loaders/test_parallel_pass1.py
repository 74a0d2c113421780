"""Pass 1 over processes (loaders/parallel.py) finds what the serial pass finds, in its order.

The bundles are cut into segments of a few hundred bytes, so every file spans many segments and
many worker tasks; the issues (file:line:column and reason), their order, the count and the files
written must be those of the serial pass, and a refused bundle leaves no files either way.
"""

from __future__ import annotations

import filecmp
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from pboss.loaders import LoadRefused, loader, parallel
from pboss.loaders.initial import write_import_files
from pboss.loaders.native import EDGE_DIR, NODE_DIR
from tests.loaders.conftest import BundleMaker, column_of, line_of


@pytest.fixture(autouse=True)
def small_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments of ~300 bytes (a few rows each) and checks of 3 rows at a time (both passes),
    so chunks and segments do not line up."""
    monkeypatch.setattr(parallel, "SEGMENT_BYTES", 300)
    monkeypatch.setattr(loader, "CHUNK", 3)


def _refused(bundle: Path, out: Path, workers: int, max_issues: int = 1000) -> LoadRefused:
    """The refusal of a bundle with `workers` processes; no files left behind."""
    with pytest.raises(LoadRefused) as caught:
        write_import_files([bundle], out, workers=workers, max_issues=max_issues)
    assert not out.exists()
    return caught.value


def _rewrite(path: Path, change: Any) -> None:
    """Rewrite a file's bytes through `change(bytes) -> bytes`."""
    path.write_bytes(change(path.read_bytes()))


def _break_in_several_files(bundle: Path) -> None:
    """Bad rows of every sort, in node and edge files, some far into their file."""
    nodes, edges = bundle / NODE_DIR, bundle / EDGE_DIR
    olt = nodes / "OLT.ndjson"
    _rewrite(olt, lambda b: b.replace(b'"spec":', b'"status":"SHINY","spec":', 1))
    ont = nodes / "ONT.ndjson"
    lines = ont.read_bytes().splitlines(keepends=True)
    lines[1] = b'{"id": "broken", \n'  # invalid JSON
    lines[-2] = lines[-2].replace(b'"', b"\xff", 1)  # bytes that are not UTF-8
    lines.insert(3, b"\n")  # a blank line: numbers further on shift, rows do not
    ont.write_bytes(b"".join(lines))
    service = nodes / "Service.ndjson"
    rows = service.read_text(encoding="utf-8").splitlines()
    row = json.loads(rows[-1])
    row["site"] = "NO-SUCH-SITE"  # a reference to nothing
    rows[-1] = json.dumps(row)
    service.write_text("\n".join(rows), encoding="utf-8")  # and no newline at the end
    fed_by = edges / "FED_BY.ndjson"
    rows = fed_by.read_text(encoding="utf-8").splitlines()
    row = json.loads(rows[len(rows) // 2])
    row["dst"] = "NOWHERE"  # an edge to a missing node, mid-file
    rows[len(rows) // 2] = json.dumps(row)
    rows.append(rows[0])  # a row more than the manifest lists
    fed_by.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_split_cuts_at_line_ends_and_numbers_lines(tmp_path: Path) -> None:
    """Segments cover the file's bytes exactly, each starting a line, with that line's number;
    the line count includes blank lines and a last line without a newline."""
    path = tmp_path / "f.ndjson"
    text = b'{"a": 1}\n\n{"b": 22}\r\n' + b'{"c": 333}\n' * 40 + b'{"last": true}'
    path.write_bytes(text)
    for size in (1, 7, 50, 300, 10_000):
        segs = parallel.split(3, path, size)
        assert segs[0].start == 0 and segs[0].first_line == 1 and segs[-1].end is None
        assert [s.last for s in segs] == [False] * (len(segs) - 1) + [True]
        for a, b in itertools.pairwise(segs):
            assert a.end == b.start and text[a.end - 1 : a.end] == b"\n"
            assert b.first_line == text[: b.start].count(b"\n") + 1
        assert {s.lines_in_file for s in segs} == {44} and {s.source for s in segs} == {3}
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    only = parallel.split(0, empty, 5)
    assert [(s.start, s.end, s.lines_in_file) for s in only] == [(0, None, 0)]


def test_same_issues_in_the_same_order_as_the_serial_pass(
    tmp_path: Path, make_bundle: BundleMaker
) -> None:
    """Bad rows in several files (bad values, JSON, bytes, references, a manifest count): the
    parallel pass reports exactly the serial pass's issues, in its order, and writes nothing."""
    bundle = make_bundle()
    _break_in_several_files(bundle)
    serial = _refused(bundle, tmp_path / "serial", workers=1)
    spread = _refused(bundle, tmp_path / "spread", workers=2)
    assert [str(i) for i in spread.issues] == [str(i) for i in serial.issues]
    assert spread.total == serial.total
    files = {i.file.rsplit("/", 1)[-1] for i in serial.issues}
    assert {"OLT.ndjson", "ONT.ndjson", "Service.ndjson", "FED_BY.ndjson"} <= files
    assert serial.total >= 6
    olt = bundle / NODE_DIR / "OLT.ndjson"
    at = line_of(olt, "SHINY")
    first = serial.issues[0]
    assert (first.line, first.column) == (at, column_of(olt, at, "status"))
    manifest = [i for i in serial.issues if "manifest lists" in i.reason]
    assert len(manifest) == 1 and manifest[0].file.endswith("FED_BY.ndjson")


def test_the_issue_limit_stops_both_at_the_same_place(
    tmp_path: Path, make_bundle: BundleMaker
) -> None:
    """With `max_issues`, both passes stop after the same chunk: same issues, same total."""
    bundle = make_bundle()
    _break_in_several_files(bundle)
    serial = _refused(bundle, tmp_path / "serial", workers=1, max_issues=1)
    spread = _refused(bundle, tmp_path / "spread", workers=3, max_issues=1)
    assert [str(i) for i in spread.issues] == [str(i) for i in serial.issues]
    assert spread.total == serial.total >= 2


def test_a_valid_bundle_gives_the_same_files(tmp_path: Path, tiny_bundle: Path) -> None:
    """A valid bundle (the generated tiny metro): byte for byte the serial pass's files, rows
    referring forward included (accepted at the end of their file in both)."""
    serial = write_import_files([tiny_bundle], tmp_path / "serial", workers=1)
    spread = write_import_files([tiny_bundle], tmp_path / "spread", workers=2)
    assert spread.written.nodes_by_kind == serial.written.nodes_by_kind
    assert spread.written.edges_by_type == serial.written.edges_by_type
    assert spread.validation.forward == serial.validation.forward
    assert spread.validation.rows == serial.validation.rows > 100
    names = sorted(p.name for p in (tmp_path / "serial").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "spread").iterdir())
    same, different, errors = filecmp.cmpfiles(
        tmp_path / "serial", tmp_path / "spread", names, shallow=False
    )
    assert (different, errors) == ([], []) and len(same) == len(names)
