"""Partner links have one model: exactly two ends, each the NE at one of its sites. A generated
network reconciled with a Tietong circuit list keeps two ends per link, and a load that would give
a link a third end is refused at its row, with nothing written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, LoadRefused, LoadReport, load_paths
from pboss.loaders.feeds import FeedSource, load_mapping
from pboss.loaders.loader import Loader
from tests.loaders.conftest import write_bundle

HEADER = ["电路编号", "A端局站编码", "A端地址", "Z端局站编码", "Z端地址", "速率", "合同号", "状态"]
RATE = {"PLINK-STM1": "155M", "PLINK-STM4": "622M"}


def tietong_list(store: GraphStore, path: Path, moved: dict[str, str] | None = None) -> Path:
    """The partner's circuit list of what the store holds of P-TT (`moved`: link -> new A site)."""
    rows = [HEADER]
    for props in store.scan_nodes("PartnerLink"):
        if props["owner"] != "P-TT":
            continue
        a_site = (moved or {}).get(props["id"], props["site"])
        code = props["partner_circuit_code"]
        rate = RATE[props["spec"]]
        rows.append([code, a_site, "", props["z_site"], "", rate, "TT-2009-01", "在用"])
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def _feed(store: GraphStore, path: Path) -> LoadReport:
    source = FeedSource(load_mapping("tietong-circuits"), [path], store)
    return Loader(store, LoadOptions()).run(source)


def _ends(store: GraphStore, link: str) -> list[tuple[str, str]]:
    return sorted((el.kind, el.id) for _, el in store.neighbours(link, "out", ["TERMINATES"]))


def test_generated_links_reconciled_with_the_tietong_list_keep_two_ends(
    store: GraphStore, tiny_bundle: Path, tmp_path: Path
) -> None:
    load_paths(store, [tiny_bundle])
    links = list(store.scan_ids("PartnerLink", "P-TT"))
    assert links
    for link in links:  # the generator's model: the NE at each end
        ends = _ends(store, link)
        assert [kind for kind, _ in ends] == ["NE", "NE"]
        sites = {store.get(ne).site for _, ne in ends}  # type: ignore[union-attr]
        el = store.get(link)
        assert el is not None and sites == {el.site, el.attrs["z_site"]}
    report = _feed(store, tietong_list(store, tmp_path / "tt.csv"))
    assert report.validation.ok and report.result is not None
    assert not report.result.changed  # the partner says what the generator made
    for link in links:
        assert len(_ends(store, link)) == 2


def test_a_row_giving_a_link_a_third_end_is_refused(
    store: GraphStore, tiny_bundle: Path, tmp_path: Path
) -> None:
    load_paths(store, [tiny_bundle])
    link = next(iter(store.scan_ids("PartnerLink", "P-TT")))
    el = store.get(link)
    assert el is not None
    exchanges = [s["id"] for s in store.scan_nodes("Site") if s.get("site_type") == "exchange"]
    elsewhere = next(s for s in exchanges if s not in (el.site, el.attrs["z_site"]))
    before, ends = store.counts(), _ends(store, link)
    path = tietong_list(store, tmp_path / "tt.csv", moved={link: elsewhere})
    report = _feed(store, path)
    assert report.refused and store.counts() == before and _ends(store, link) == ends
    rows = path.read_text("utf-8").splitlines()
    code = el.partner_circuit_code  # type: ignore[attr-defined]
    line = next(i for i, row in enumerate(rows, start=1) if row.startswith(code))
    assert [(i.file, i.line) for i in report.issues] == [(str(path), line)]
    assert "would have 3 ends" in report.issues[0].reason
    assert "a link has exactly 2 ends" in report.issues[0].reason


def test_a_native_row_giving_a_trunk_a_third_end_is_refused(
    demo_store: GraphStore, tmp_path: Path
) -> None:
    spare = {"kind": "Port", "id": "NE-2/STM1-9", "site": "EX-2", "spec": "PORT-STM1"}
    bundle = write_bundle(
        tmp_path / "b",
        [spare],
        [
            {"type": "PART_OF", "src": "NE-2/STM1-9", "dst": "NE-2"},
            {"type": "TERMINATES", "src": "TS-1", "dst": "NE-2/STM1-9"},
        ],
    )
    before = demo_store.counts()
    with pytest.raises(LoadRefused) as refused:
        load_paths(demo_store, [bundle])
    assert "'TS-1' would have 3 ends" in str(refused.value.issues[0])
    assert demo_store.counts() == before
