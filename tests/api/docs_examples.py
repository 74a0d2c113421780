"""The example operations in docs/api.md (and the README): parse them, run them, rewrite answers.

An example is a ```graphql block whose first line is `# key: <api key>` (optionally followed by
`# variables: {json}`), followed by a ```json block holding its answer. `python -m
tests.api.docs_examples` re-runs every example against the demo network and rewrites the answers in
place; tests/api/test_docs.py fails when a documented answer is no longer what the API says.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pboss.config import Settings
from pboss.http.app import create_app
from pboss.http.auth import dev_keyring
from pboss.inventory.store import GraphStore

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "api.md", ROOT / "README.md"]
_BLOCK = re.compile(
    # a query never spans a fence: an operation shown without an answer is not an example
    r"```graphql\n(?P<query>(?:(?!```).)*?)```\s*\n(?:[^`]*?\n)?```json\n(?P<answer>.*?)```",
    re.S,
)


@dataclass
class Example:
    """One documented operation and the answer the document gives for it."""

    path: Path
    key: str
    variables: dict[str, Any]
    query: str
    answer: str
    span: tuple[int, int]

    @property
    def title(self) -> str:
        """A short name for test ids."""
        first = next(line for line in self.query.splitlines() if not line.startswith("#"))
        return f"{self.path.name}:{first.strip()[:40]}"


def parse(path: Path) -> list[Example]:
    """The examples of one document, in order."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _BLOCK.finditer(text):
        lines = m["query"].splitlines()
        key = re.match(r"#\s*key:\s*(\S+)", lines[0]) if lines else None
        if key is None:
            continue
        variables: dict[str, Any] = {}
        if len(lines) > 1 and (v := re.match(r"#\s*variables:\s*(.+)", lines[1])):
            variables = json.loads(v[1])
        out.append(Example(path, key[1], variables, m["query"], m["answer"], m.span("answer")))
    return out


def docs_app(store: GraphStore) -> FastAPI:
    """The app the documents assume: the demo network and the documented development keys (no
    resource publishing in the background: the documented event pages show order events)."""
    app = create_app(Settings(demo=False, publish_resources=False), store=store)
    app.state.pboss["keyring"] = dev_keyring()
    return app


def run(client: TestClient, example: Example) -> str:
    """The API's answer to an example, formatted as the documents show it."""
    body: dict[str, Any] = {"query": example.query}
    if example.variables:
        body["variables"] = example.variables
    response = client.post("/graphql", json=body, headers={"X-API-Key": example.key})
    answer = response.json()
    # a write on Neo4j answers with its bookmark (docs/api.md, Replicas): a token that differs
    # every run and that the embedded store never gives, so the documents leave it out
    extensions = answer.get("extensions") or {}
    extensions.pop("bookmark", None)
    if "extensions" in answer and not extensions:
        del answer["extensions"]
    return pretty(answer) + "\n"


def pretty(value: Any, indent: int = 0, width: int = 96) -> str:
    """JSON indented by two, with any object or list that fits in `width` kept on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent <= width or not isinstance(value, dict | list) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {pretty(v, indent + 2, width)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + pretty(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def rewrite(store: GraphStore) -> list[Path]:
    """Run every example in order on one app over `store` and write the answers in place."""
    changed = []
    with TestClient(docs_app(store)) as client:
        for path in DOCS:
            examples = parse(path)
            if not examples:
                continue
            text = path.read_text(encoding="utf-8")
            for ex in reversed([(ex, run(client, ex)) for ex in examples]):
                example, answer = ex
                start, end = example.span
                text = text[:start] + answer + text[end:]
            if text != path.read_text(encoding="utf-8"):
                path.write_text(text, encoding="utf-8")
                changed.append(path)
    return changed


def main() -> int:
    """Regenerate the documented answers on a fresh demo network (memory store)."""
    from pboss.bootstrap import load_demo_if_empty
    from pboss.inventory.memory.store import MemoryStore

    store = MemoryStore()
    load_demo_if_empty(store)
    for path in rewrite(store):
        print(f"rewrote answers in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
