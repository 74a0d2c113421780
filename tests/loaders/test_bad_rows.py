"""Bad rows: every error names file, line and column; a load with one writes nothing, and
--skip-invalid loads the rest and writes the rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, LoadRefused, load_paths
from pboss.loaders.issues import RowIssue
from tests.loaders.conftest import BundleMaker, column_of, line_of, write_bundle

#: every test twice: the validator's index in memory, and on disk (conftest)
pytestmark = pytest.mark.usefixtures("index_place")


def _refused(store: GraphStore, bundle: Path, **opts: object) -> list[RowIssue]:
    with pytest.raises(LoadRefused) as info:
        load_paths(store, [bundle], LoadOptions(**opts))  # type: ignore[arg-type]
    return info.value.issues


def _set(rows: list[dict], row_id: str, **changes: object) -> None:
    row = next(r for r in rows if r.get("id") == row_id)
    row.update(changes)


def _assert_one(issues: list[RowIssue], file: Path, line: int, column: int, words: str) -> None:
    assert len(issues) == 1, issues
    issue = issues[0]
    assert (issue.file, issue.line, issue.column) == (str(file), line, column), issue
    assert words in issue.reason, issue


def test_wrong_type(store: GraphStore, make_bundle: BundleMaker) -> None:
    bundle = make_bundle(lambda n, e: _set(n, "B-DH", households="many"))
    site_file = bundle / "nodes" / "Site.ndjson"
    issues = _refused(store, bundle)
    line = line_of(site_file, '"B-DH"')
    _assert_one(issues, site_file, line, column_of(site_file, line, "households"), "integer")
    assert store.counts() == {}


def test_unknown_site(store: GraphStore, make_bundle: BundleMaker) -> None:
    bundle = make_bundle(lambda n, e: _set(n, "ONT-3", site="B-NOWHERE"))
    ont_file = bundle / "nodes" / "ONT.ndjson"
    line = line_of(ont_file, '"ONT-3"')
    issues = _refused(store, bundle)
    _assert_one(issues, ont_file, line, column_of(ont_file, line, "site"), "unknown site")
    assert store.counts() == {}


def test_id_reused_with_another_kind(store: GraphStore, make_bundle: BundleMaker) -> None:
    bundle = make_bundle(lambda n, e: _set(n, "OLT-2", id="EX-2"))
    olt_file = bundle / "nodes" / "OLT.ndjson"
    line = line_of(olt_file, '"EX-2"')
    issues = _refused(store, bundle)
    assert (issues[0].file, issues[0].line) == (str(olt_file), line)
    assert issues[0].column == column_of(olt_file, line, "id")
    assert "already defined by a Site" in issues[0].reason
    assert store.counts() == {}


def test_id_of_another_kind_in_the_store(store: GraphStore, tmp_path: Path) -> None:
    store.upsert(*demo_network())
    before = store.counts()
    rows = [{"kind": "OLT", "id": "OLT-9", "site": "EX-1"}, {"kind": "OLT", "id": "EX-2"}]
    bundle = write_bundle(tmp_path / "b", rows, [])
    issues = _refused(store, bundle)
    olt_file = bundle / "nodes" / "OLT.ndjson"
    _assert_one(issues, olt_file, 2, column_of(olt_file, 2, "id"), "is a Site in the store")
    assert store.counts() == before


def test_edge_to_a_missing_node(store: GraphStore, make_bundle: BundleMaker) -> None:
    def change(nodes: list[dict], edges: list[dict]) -> None:
        edges.append({"type": "FED_BY", "src": "SPL-DH-2A", "dst": "SPL-NOT-THERE:1"})

    bundle = make_bundle(change)
    fed_by = bundle / "edges" / "FED_BY.ndjson"
    line = line_of(fed_by, "SPL-NOT-THERE")
    issues = _refused(store, bundle)
    _assert_one(issues, fed_by, line, column_of(fed_by, line, "dst"), "missing node")
    assert store.counts() == {}


def test_a_second_upstream_anywhere_in_the_feed(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    """FED_BY takes one target per source across the whole feed, not only within a batch, so
    the store never refuses a batch half-way through a load (batches of 3 here)."""

    def change(nodes: list[dict], edges: list[dict]) -> None:
        edges.append({"type": "FED_BY", "src": "SPL-DH-2A", "dst": "SPL-DH-1:2"})

    bundle = make_bundle(change)
    fed_by = bundle / "edges" / "FED_BY.ndjson"
    line = line_of(fed_by, "SPL-DH-1:2")
    issues = _refused(store, bundle, batch_size=3)
    _assert_one(issues, fed_by, line, column_of(fed_by, line, "dst"), "already has a FED_BY")
    assert store.counts() == {}


def test_a_second_customer_for_a_service_in_the_feed(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    """FOR is single-upstream too: a service is sold to one customer."""

    def change(nodes: list[dict], edges: list[dict]) -> None:
        edges.append({"type": "FOR", "src": "SVC-H1-BB", "dst": "H-2"})

    bundle = make_bundle(change)
    fors = bundle / "edges" / "FOR.ndjson"
    line = len(fors.read_text(encoding="utf-8").splitlines())  # the row added last
    issues = _refused(store, bundle, batch_size=3)
    _assert_one(issues, fors, line, column_of(fors, line, "dst"), "already has a FOR")
    assert store.counts() == {}


def test_gbk_file_read_as_utf8(store: GraphStore, make_bundle: BundleMaker) -> None:
    bundle = make_bundle()
    for path in bundle.glob("*/*.ndjson"):  # a partner tool wrote the whole bundle in GBK
        path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    site_file = bundle / "nodes" / "Site.ndjson"
    text = site_file.read_text(encoding="gbk")
    issues = _refused(store, bundle)
    assert [i.line for i in issues if i.file == str(site_file)] == [1, 2, 3, 4, 5]
    assert all("not valid utf-8" in i.reason for i in issues)
    first = text.splitlines()[0]
    bad_at = next(i for i, ch in enumerate(first) if ord(ch) > 127) + 1
    site_issue = next(i for i in issues if i.file == str(site_file))
    assert site_issue.column == bad_at
    assert "--encoding gbk" in site_issue.reason
    assert store.counts() == {}
    # with the right encoding the same file loads
    report = load_paths(store, [bundle], LoadOptions(encoding="gbk"))
    assert report.result is not None and report.result.nodes_added == len(demo_network()[0])


def test_truncated_last_line(store: GraphStore, make_bundle: BundleMaker) -> None:
    bundle = make_bundle()
    ports = bundle / "nodes" / "SplitterPort.ndjson"
    data = ports.read_bytes().rstrip(b"\n")
    ports.write_bytes(data[: len(data) - 12])
    last = data.count(b"\n") + 1
    issues = _refused(store, bundle)
    assert [(i.file, i.line) for i in issues] == [(str(ports), last)]
    assert "truncated last line" in issues[0].reason
    assert issues[0].column == len(data.splitlines()[-1][:-12].decode()) + 1
    assert store.counts() == {}


def test_missing_line_against_the_manifest(store: GraphStore, make_bundle: BundleMaker) -> None:
    bundle = make_bundle()
    onts = bundle / "nodes" / "ONT.ndjson"
    lines = onts.read_text(encoding="utf-8").splitlines(keepends=True)
    onts.write_text("".join(lines[:-1]), encoding="utf-8")
    issues = _refused(store, bundle)
    assert any(i.file == str(onts) and "manifest lists 5" in i.reason for i in issues), issues


def test_slot_held_twice_and_status_against_the_store(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    def clash(nodes: list[dict], edges: list[dict]) -> None:
        edge = next(e for e in edges if e.get("src") == "CIR-2" and e["type"] == "ROUTED_OVER")
        edge["slots"] = [4, 5]  # CIR-1 holds 5 and 6 of TS-2

    bundle = make_bundle(clash)
    routed = bundle / "edges" / "ROUTED_OVER.ndjson"
    issues = _refused(store, bundle)
    line = line_of(routed, '"src":"CIR-2"')
    assert [(i.line, i.column) for i in issues] == [(line, column_of(routed, line, "slots"))]
    assert "already held: 5 by 'CIR-1'" in issues[0].reason

    nodes, edges = demo_network()
    store.upsert(nodes, edges)
    store.set_status("TS-1", "retired", actor="test", reason="decommissioned")
    before = store.counts()
    again = make_bundle(name="again")
    trunks = again / "nodes" / "TrunkSection.ndjson"
    issues = _refused(store, again)
    line = line_of(trunks, '"TS-1"')
    assert [(i.file, i.line) for i in issues] == [(str(trunks), line)]
    assert "from 'retired' to 'available'" in issues[0].reason
    assert store.counts() == before


def test_skip_invalid_loads_the_rest_and_writes_rejects(
    store: GraphStore, make_bundle: BundleMaker, tmp_path: Path
) -> None:
    def change(nodes: list[dict], edges: list[dict]) -> None:
        _set(nodes, "ONT-3", site="B-NOWHERE")
        _set(nodes, "B-DH", households=-4)

    bundle = make_bundle(change)
    rejects = tmp_path / "rejects.ndjson"
    report = load_paths(store, [bundle], LoadOptions(skip_invalid=True, rejects=rejects))
    assert not report.validation.ok and report.result is not None
    rows = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    rejected = {json.loads(r["row"]).get("id") or json.loads(r["row"])["src"] for r in rows}
    # B-DH is bad, and so is everything sited there; ONT-3 is bad, and its edges are rejected too
    assert {"B-DH", "ONT-3", "SPL-DH-1", "ONT-4", "PA-DH-OC", "NE-Z"} <= rejected
    assert all(r["file"] and r["line"] and r["reason"].startswith(r["file"]) for r in rows)
    assert store.get("ONT-3") is None and store.get("B-DH") is None
    assert store.get("ONT-1") is not None and store.get("B-JZ") is not None
    assert report.rejects_written == len(rows) == len(report.validation.bad)
    counts = store.counts()
    assert sum(v for k, v in counts.items() if not k.startswith("edge:")) == sum(
        report.validation.nodes_by_kind.values()
    )


def test_a_row_may_refer_to_a_site_later_in_its_file(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    bundle = make_bundle(lambda n, e: _set(n, "B-DH", site="CP-XX"))  # CP-XX comes later
    report = load_paths(store, [bundle], LoadOptions(batch_size=1))
    assert report.validation.ok and report.validation.forward
    got = store.get("B-DH")
    assert got is not None and got.site == "CP-XX"
