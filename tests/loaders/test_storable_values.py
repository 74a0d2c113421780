"""Pass 1 refuses what Neo4j would refuse in pass 2 (issue 16, items 3 and 4): property names
with NUL, empty or over-long; nested objects, mixed lists, lists with null; integers beyond 64
bits (which orjson used to turn into floats). Each at file:line:column, control characters
escaped, nothing written, on both stores; a dry run says the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, LoadRefused, load_paths
from pboss.loaders.feeds import FeedSource, load_mapping
from pboss.loaders.issues import RowIssue
from pboss.loaders.loader import Loader, NativeSource
from tests.loaders.conftest import BundleMaker

BIG = 2**70


def _customers(directory: Path, last_line: str, count: int = 30) -> Path:
    """A Customer file of `count` valid rows, then `last_line` as written (raw JSON text)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "Customer.ndjson"
    rows = [json.dumps({"id": f"C-{i}", "name": f"Customer {i}"}) for i in range(count)]
    path.write_text("\n".join([*rows, last_line]) + "\n", encoding="utf-8")
    return path


def _refused(store: GraphStore, path: Path, **opts: object) -> list[RowIssue]:
    options = LoadOptions(**opts)  # type: ignore[arg-type]
    if options.dry_run:
        report = Loader(store, options).run(NativeSource([path]))
        assert not report.validation.ok
        return report.issues
    with pytest.raises(LoadRefused) as info:
        load_paths(store, [path], options)
    assert "\x00" not in str(info.value)
    return info.value.issues


@pytest.mark.parametrize(
    ("row", "key", "words"),
    [
        ('{"id": "C-X", "a\\u0000b": 1}', '"a\\u0000b"', "NUL"),
        ('{"id": "C-X", "": 1}', '""', "must not be empty"),
        ('{"id": "C-X", "' + "k" * 300 + '": 1}', '"kkk', "at most 255 characters"),
        ('{"id": "C-X", "meta": {"a": 1}}', '"meta"', "nested object"),
        ('{"id": "C-X", "tags": [1, "a"]}', '"tags"', "one type of value"),
        ('{"id": "C-X", "tags": ["a", null]}', '"tags"', "cannot hold null"),
        ('{"id": "C-X", "tags": [[1]]}', '"tags"', "list inside a list"),
        (f'{{"id": "C-X", "big": {BIG}}}', '"big"', "does not fit in a 64-bit"),
        (f'{{"id": "C-X", "big": -{BIG}}}', '"big"', "does not fit in a 64-bit"),
        (f'{{"id": "C-X", "nums": [1, {2**64}]}}', '"nums"', "does not fit in a 64-bit"),
        # a long number makes the stdlib parse the row, which lets a lone surrogate through
        ('{"id": "C-X", "n": "12345678901234567890", "bad": "\\ud800"}', '"bad"', "surrogate"),
    ],
)
def test_a_value_neo4j_cannot_store_is_refused_in_pass_1(
    store: GraphStore, tmp_path: Path, row: str, key: str, words: str
) -> None:
    path = _customers(tmp_path / "in", row)
    for dry_run in (True, False):
        issues = _refused(store, path, dry_run=dry_run, batch_size=10)
        assert len(issues) == 1, issues
        issue = issues[0]
        assert (issue.file, issue.line) == (str(path), 31), issue
        assert issue.column == row.index(key) + 1, issue
        assert words in issue.reason, issue
        assert "\x00" not in str(issue)
    assert store.counts() == {}


def test_a_large_int_in_a_field_is_refused_not_rounded(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    bundle = make_bundle()
    site_file = bundle / "nodes" / "Site.ndjson"
    lines = site_file.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[0])
    row["households"] = 7  # then spelt as 2**70 in the text: orjson would make it 1.18e21
    lines[0] = json.dumps(row).replace('"households": 7', f'"households": {BIG}')
    site_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    issues = _refused(store, bundle)
    assert [(i.line, i.column) for i in issues] == [(1, lines[0].index('"households"') + 1)]
    assert str(BIG) in issues[0].reason and "64-bit" in issues[0].reason
    assert store.counts() == {}


def test_an_int_that_fits_64_bits_is_stored_exactly(store: GraphStore, tmp_path: Path) -> None:
    top = 2**63 - 1
    path = _customers(tmp_path / "in", f'{{"id": "C-X", "big": {top}, "low": {-(2**63)}}}')
    load_paths(store, [path], LoadOptions())
    stored = store.get("C-X")
    assert stored is not None and stored.attrs == {"big": top, "low": -(2**63)}


def test_a_control_character_in_a_key_is_escaped_in_the_message(
    store: GraphStore, tmp_path: Path
) -> None:
    path = _customers(tmp_path / "in", '{"id": "C-X", "a\\u0000\\u001bb": 1}')
    issues = _refused(store, path)
    text = str(issues[0])
    assert "\\x00\\x1bb" in text and "\x1b" not in text and "\x00" not in text


def test_a_feed_count_beyond_64_bits_is_refused(demo_store: GraphStore, tmp_path: Path) -> None:
    csv = tmp_path / "coverage.csv"
    csv.write_text(
        f"小区编码,楼宇名称,地址,接入方式,总容量,空闲容量\nB0002,都华名苑,,HFC,{BIG},60\n",
        encoding="gbk",
    )
    before = demo_store.counts()
    source = FeedSource(load_mapping("oriental-cable-coverage"), [csv], demo_store)
    report = Loader(demo_store, LoadOptions(encoding="gbk")).run(source)  # type: ignore[arg-type]
    assert report.refused
    assert [(i.line, i.column) for i in report.issues] == [(2, 5)]
    assert "64-bit" in report.issues[0].reason
    assert demo_store.counts() == before


def test_json_lines_given_as_bytes_keep_long_integers_exact_too() -> None:
    """`jsonio.loads` takes bytes as callers reading binary files pass them (the bench did)."""
    import json

    from pboss.loaders import jsonio

    assert jsonio.loads(b'{"n": 1180591620717411303424}') == {"n": 2**70}
    assert jsonio.loads('{"n": 1180591620717411303424}') == {"n": 2**70}
    with pytest.raises(json.JSONDecodeError):
        jsonio.loads(b'{"n": NaN}')
