"""Every example operation in docs/api.md and the README gives exactly the documented answer,
on each store (run in document order on one app: later examples see earlier writes)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pboss.inventory.store import GraphStore
from tests.api.docs_examples import DOCS, docs_app, parse, run


def test_docs_have_examples_for_crm_and_engineers() -> None:
    examples = [ex for path in DOCS for ex in parse(path)]
    keys = {ex.key for ex in examples}
    assert {"dev-crm", "dev-engineer", "dev-partner-oc"} <= keys
    assert len(examples) >= 12


def test_every_documented_answer_is_what_the_api_says(demo_store: GraphStore) -> None:
    with TestClient(docs_app(demo_store)) as client:
        for path in DOCS:
            for example in parse(path):
                got = run(client, example)
                assert got == example.answer, (
                    f"{example.title}: the documented answer is stale; "
                    "run python -m tests.api.docs_examples\n" + got
                )
