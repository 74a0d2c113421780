"""Crews in a bundle (`nodes/Crew.ndjson`): members, skills, areas and shifts checked in pass 1
at file:line:column, COVERS edges derived from the areas, nothing written on a bad row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pboss.field.model import Crew
from pboss.inventory.demo import demo_crew_rows
from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, LoadRefused, load_paths
from tests.loaders.conftest import BundleMaker, column_of, line_of

pytestmark = pytest.mark.usefixtures("index_place")


def _with_crews(make_bundle: BundleMaker, **changes: dict[str, object]) -> Path:
    """The demo bundle plus its crews (no COVERS file: the loader derives them), edited."""
    crews, _ = demo_crew_rows()
    for c in crews:
        c.update(changes.get(c["id"], {}))
        if isinstance(c.get("members"), str):
            c["members"] = json.loads(c["members"])  # a list of objects is accepted as such

    def add(nodes: list[dict], edges: list[dict]) -> None:
        nodes.extend(crews)

    return make_bundle(add)


def test_crews_load_with_their_covers_edges(store: GraphStore, make_bundle: BundleMaker) -> None:
    load_paths(store, [_with_crews(make_bundle)], LoadOptions())
    crew = store.get("CREW-LJZ-T")
    assert isinstance(crew, Crew) and crew.skills == ["mstpSdh", "splicing", "repair"]
    assert [m.name for m in crew.member_list()] == ["陈刚"]
    covers = sorted(e.dst for e, _ in store.neighbours("CREW-LJZ-T", "out", ["COVERS"]))
    assert covers == ["B-DH", "CP-XX", "EX-2"]
    assert store.get("CREW-TT-1").owner == "P-TT"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"areas": ["EX-2", "NOWHERE"]}, "areas", "'NOWHERE' is not a Region or Site"),
        ({"areas": ["OLT-1"]}, "areas", "'OLT-1' is a OLT, not a Region or Site"),
        ({"skills": ["juggling"]}, "skills", "'ftthInstall'"),
        ({"shift_end": "18:75"}, "shift_end", "not a time of day"),
        ({"work_days": [0, 1]}, "work_days", "ISO weekdays"),
        ({"members": [{"phone": "1"}]}, "members", "member 1: name: Field required"),
    ],
)
def test_a_bad_crew_row_is_refused_at_its_column(
    store: GraphStore, make_bundle: BundleMaker, changes: dict, field: str, words: str
) -> None:
    bundle = _with_crews(make_bundle, **{"CREW-LJZ-T": changes})
    crew_file = bundle / "nodes" / "Crew.ndjson"
    with pytest.raises(LoadRefused) as info:
        load_paths(store, [bundle], LoadOptions())
    [issue] = info.value.issues
    line = line_of(crew_file, '"CREW-LJZ-T"')
    assert (issue.file, issue.line) == (str(crew_file), line), issue
    assert issue.column == column_of(crew_file, line, field), issue
    assert words in issue.reason, issue
    assert store.counts() == {}
