"""Through the API, a property Neo4j cannot store is a typed ValidationError naming the field
(issue 16, item 3), never "Unexpected error.", on both stores; nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ENGINEER, Api
from tests.api.test_mutations import UPSERT


def _upsert(api: Api, **batch: Any) -> dict[str, Any]:
    return api.data(UPSERT, key=ENGINEER, **{"in": batch})["upsertElements"]


@pytest.mark.parametrize(
    ("attrs", "words"),
    [
        ({"a\x00b": 1}, "NUL"),
        ({"k" * 300: 1}, "at most 255 characters"),
        ({"big": 2**70}, "64-bit"),
    ],
)
def test_an_element_attribute_neo4j_cannot_store(api: Api, attrs: dict, words: str) -> None:
    element = {"kind": "Customer", "id": "C-NUL", "name": "x", "attrs": attrs}
    got = _upsert(api, elements=[element])
    assert got["__typename"] == "ValidationError", got
    assert any(words in i["reason"] for i in got["issues"]), got
    assert "\x00" not in str(got)
    missing = api.data('{ element(id: "C-NUL") { __typename } }')
    assert missing["element"]["__typename"] == "NotFound"


def test_an_edge_attribute_with_a_nul_in_its_name(api: Api) -> None:
    edge = {"type": "PART_OF", "src": "OLT-1/0/1", "dst": "OLT-1", "attrs": {"x\x00": "y"}}
    got = _upsert(api, edges=[edge])
    assert got["__typename"] == "ValidationError", got
    assert any("NUL" in i["reason"] for i in got["issues"]), got
