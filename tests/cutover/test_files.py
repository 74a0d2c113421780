"""Cutover plans from port-mapping files (CSV and NDJSON), on both stores: wrong rows at
file:line:column with nothing recorded, a dry run that records nothing, and a file that plans;
and `pboss cutover plan-file` reporting the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pboss.cli.main import app
from pboss.cutover.service import CutoverService
from pboss.inventory.store import GraphStore
from pboss.loaders.issues import LoadRefused
from tests.cutover.network import WINDOW, Clock, full_splitter, network

W = {"window_start": WINDOW[0], "window_end": WINDOW[1], "reason": "estate cabinet moved"}


def _svc(store: GraphStore) -> CutoverService:
    full_splitter(store)
    return CutoverService(store, Clock())


def test_csv_rows_are_checked_at_file_line_column(demo_store: GraphStore, tmp_path: Path) -> None:
    svc = _svc(demo_store)
    before = network(demo_store)
    f = tmp_path / "map.csv"
    f.write_text(
        "rider,from,to\n"
        "ONT-1,SPL-JZ-2A:1,SPL-JZ-3:1\n"
        "ONT-2,SPL-JZ-2A:9,SPL-JZ-3:2\n"
        "ONT-9,,SPL-JZ-3:3\n"
        "ONT-JZ-3,SPL-JZ-2A:3,SPL-JZ-3:1\n"
        "ONT-JZ-4,,SPL-JZ-3:99\n",
        encoding="utf-8",
    )
    with pytest.raises(LoadRefused) as err:
        svc.plan_file(f, actor="field", **W)
    assert [str(i) for i in err.value.issues] == [
        f"{f}:3:7: from: ONT-2 is fed by SPL-JZ-2A:2, not SPL-JZ-2A:9",
        f"{f}:4:1: rider: no element 'ONT-9'",
        f"{f}:5:22: to: SPL-JZ-3:1 is already the target on line 2",
        f"{f}:6:11: to: no splitter output 'SPL-JZ-3:99'",
    ]
    assert network(demo_store) == before and not list(demo_store.scan_nodes("CutoverPlan"))


def test_ndjson_dry_run_then_plan(demo_store: GraphStore, tmp_path: Path) -> None:
    svc = _svc(demo_store)
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"rider": "ONT-1", "to": 5}\n{"rider": "ONT-2", "to": \n', encoding="utf-8")
    with pytest.raises(LoadRefused) as err:
        svc.plan_file(bad, actor="field", **W)
    assert [str(i) for i in err.value.issues] == [
        f"{bad}:1:20: to: must be a string",
        f"{bad}:2:26: invalid JSON: Expecting value",
    ]
    f = tmp_path / "map.ndjson"
    f.write_text(
        '{"rider": "ONT-1", "from": "SPL-JZ-2A:1", "to": "SPL-JZ-3:16"}\n'
        '{"rider": "ONT-2", "to": "SPL-JZ-3:15"}\n',
        encoding="utf-8",
    )
    before = network(demo_store)
    draft, impact, plan = svc.plan_file(f, actor="field", dry_run=True, **W)
    assert plan is None and [s.new_dst for s in draft.steps] == ["SPL-JZ-3:16", "SPL-JZ-3:15"]
    assert len(impact.services) == 3 and impact.gold_customers == ["H-2"]
    assert network(demo_store) == before and not list(demo_store.scan_nodes("CutoverPlan"))
    _, _, plan = svc.plan_file(f, actor="field", plan_id="CUT-F", **W)
    assert plan is not None and plan.holds == ["SPL-JZ-3:16", "SPL-JZ-3:15"]


def test_cli_plan_file_reports_rows_and_exits_1(tmp_path: Path) -> None:
    f = tmp_path / "map.csv"
    f.write_text("rider,to,colour\nONT-1,,red\n", encoding="utf-8")
    args = ["cutover", "plan-file", str(f), "--window-start", "2030-01-01T00:00:00+00:00"]
    args += ["--window-end", "2030-01-01T04:00:00+00:00", "--reason", "x", "--store", "memory"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert f"{f}:1:10: unknown column 'colour'; expected rider, from, to" in result.output
    result = CliRunner().invoke(app, [*args[:3], "--window-start", "soon", *args[5:]])
    assert result.exit_code == 2 and "not an ISO 8601 time" in result.output
