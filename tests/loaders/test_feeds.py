"""Partner feeds through their mapping files: links and pools as expected, unmatched rows reported
with file, line and column, GBK handled, mapping errors precise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pboss.inventory.store import GraphStore
from pboss.loaders import LoadError, LoadOptions, LoadReport
from pboss.loaders.feeds import FeedSource, load_mapping
from pboss.loaders.feeds.address import normalise_address, normalise_code
from pboss.loaders.loader import Loader
from tests.loaders.conftest import DATA

CIRCUITS = DATA / "tietong_circuits.csv"
COVERAGE_GBK = DATA / "oriental_cable_coverage_gbk.csv"


def _feed(store: GraphStore, mapping: str, path: Path, **opts: object) -> LoadReport:
    source = FeedSource(load_mapping(mapping), [path], store)
    return Loader(store, LoadOptions(**opts)).run(source)  # type: ignore[arg-type]


def _where(report: LoadReport) -> list[tuple[int, int]]:
    return [(i.line, i.column) for i in report.issues]


def test_leased_line_circuits_become_partner_links(demo_store: GraphStore, tmp_path: Path) -> None:
    before = demo_store.counts()
    refused = _feed(demo_store, "tietong-circuits", CIRCUITS)
    assert refused.refused and demo_store.counts() == before
    # row 5: no site has code XX99 nor that address (column 3 is A端地址); row 6: unknown rate
    assert _where(refused) == [(5, 3), (6, 6)]
    assert "no site matches code 'XX99'" in refused.issues[0].reason
    assert "速率 '100M'" in refused.issues[1].reason

    rejects = tmp_path / "rejects.ndjson"
    report = _feed(demo_store, "tietong-circuits", CIRCUITS, skip_invalid=True, rejects=rejects)
    assert report.result is not None and report.result.nodes_added == 3
    expected = {  # id: (A site, Z site, spec, status, NEs terminated on)
        "PL-TT-SH-0101": ("EX-1", "EX-2", "PLINK-STM1", "in_use", ["NE-1", "NE-2"]),
        "PL-TT-SH-0102": ("EX-1", "EX-2", "PLINK-STM4", "available", ["NE-1", "NE-2"]),
        "PL-TT-SH-0103": ("EX-1", "B-DH", "PLINK-STM1", "faulty", ["NE-1", "NE-Z"]),
    }
    for link_id, (a, z, spec, status, nes) in expected.items():
        link = demo_store.get(link_id)
        assert link is not None and link.owner == "P-TT"
        assert (link.site, link.attrs["z_site"], link.spec, link.status) == (a, z, spec, status)
        ends = sorted(el.id for _, el in demo_store.neighbours(link_id, "out", ["TERMINATES"]))
        assert ends == nes
    assert demo_store.get("PL-TT-SH-0102").capacity_vc12 == 252  # type: ignore[union-attr]
    rows = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in rows] == [5, 6]
    assert rows[0]["row"].startswith("TT-SH-0104,XX99")
    # the hand-built PL-1 of the same partner is not in the feed: drift, not deleted
    assert report.drift is not None and report.drift.node_ids == {"PartnerLink": ["PL-1"]}
    assert demo_store.get("PL-1") is not None

    again = _feed(demo_store, "tietong-circuits", CIRCUITS, skip_invalid=True, rejects=rejects)
    assert again.result is not None and not again.result.changed


def test_cable_coverage_in_gbk_becomes_pools(demo_store: GraphStore, tmp_path: Path) -> None:
    as_utf8 = _feed(demo_store, "oriental-cable-coverage", COVERAGE_GBK)
    assert as_utf8.refused and _where(as_utf8)[0][0] == 1
    assert "not valid utf-8" in as_utf8.issues[0].reason

    rejects = tmp_path / "rejects.ndjson"
    report = _feed(
        demo_store, "oriental-cable-coverage", COVERAGE_GBK,
        encoding="gbk", skip_invalid=True, rejects=rejects,
    )  # fmt: skip
    assert _where(report) == [(4, 3)]
    assert "齐爱路1号" in report.issues[0].reason
    by_code, by_address = demo_store.get("PA-B-DH-OC"), demo_store.get("PA-B-JZ-OC")
    assert by_code is not None and by_address is not None
    assert (by_code.site, by_code.total, by_code.used, by_code.owner) == ("B-DH", 100, 40, "P-OC")  # type: ignore[attr-defined]
    assert (by_address.site, by_address.total, by_address.used) == ("B-JZ", 80, 0)  # type: ignore[attr-defined]
    assert by_address.technology == "cable" and by_address.name == "东方有线 财富国际金座"  # type: ignore[attr-defined]
    assert report.rejects_written == 1
    assert any("by address: 1" in w and "by code: 1" in w for w in report.warnings)


def test_pools_keep_our_reservations(demo_store: GraphStore, tmp_path: Path) -> None:
    pool = demo_store.get("PA-B-JZ-OC")
    assert pool is None
    opts = {"encoding": "gbk", "skip_invalid": True, "rejects": tmp_path / "r.ndjson"}
    _feed(demo_store, "oriental-cable-coverage", COVERAGE_GBK, **opts)
    held = demo_store.get("PA-B-JZ-OC")
    assert held is not None
    held.reserved = 5  # type: ignore[attr-defined]
    demo_store.upsert([held])
    _feed(demo_store, "oriental-cable-coverage", COVERAGE_GBK, **opts)
    assert demo_store.get("PA-B-JZ-OC").reserved == 5  # type: ignore[union-attr]


def test_missing_column_is_reported_at_the_header(demo_store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "circuits.csv"
    path.write_text("电路编号,速率\nTT-1,155M\n", encoding="utf-8")
    report = _feed(demo_store, "tietong-circuits", path)
    assert report.refused and _where(report) == [(1, 1)]
    assert "missing column" in report.issues[0].reason


def test_truncated_last_csv_line(demo_store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "circuits.csv"
    lines = CIRCUITS.read_text(encoding="utf-8").splitlines()[:3]
    path.write_text("\n".join(lines) + "\nTT-SH-0109,ZJ01,", encoding="utf-8")
    report = _feed(demo_store, "tietong-circuits", path)
    assert report.refused and [i.line for i in report.issues] == [4]
    assert "truncated last line" in report.issues[0].reason


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("上海市浦东新区世纪大道８号", "上海市浦东新区世纪大道8号"),
        ("浦东新区 世纪大道 8 號", "世纪大道8号"),
        ("上海浦东新区张江路１００弄５号楼", "张江路100弄5栋"),
        ("张江路100弄5幢（近祖冲之路）", "上海市浦东新区张江路100弄5栋"),
        ("ＡＢＣ大厦", "abc大厦"),
    ],
)
def test_addresses_normalise_alike(theirs: str, ours: str) -> None:
    assert normalise_address(theirs) == normalise_address(ours)


def test_road_names_like_districts_are_kept() -> None:
    assert normalise_address("浦东大道100号") != normalise_address("大道100号")
    assert normalise_address("世纪大道8号") != normalise_address("世纪大道9号")
    assert normalise_code(" ｚｊ01 ") == "ZJ01"


def test_bad_mapping_files_are_refused_precisely(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="shipped mappings: oriental-cable-coverage"):
        load_mapping("no-such-mapping")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\nstyle = "partner_link"\npartner = "P-TT"\nid = "PL-{nope}"\n'
        '[columns]\ncircuit_code = "c"\nspec = "r"\na_address = "a"\n',
        encoding="utf-8",
    )
    with pytest.raises(LoadError) as info:
        load_mapping(bad)
    message = str(info.value)
    assert "z_site_code or z_address" in message and "unknown name 'nope'" in message
