"""pboss's GraphiQL in a real headless Chromium, with every request off 127.0.0.1 blocked.

A real `pboss serve` (uvicorn on a free 127.0.0.1 port, the embedded demo, a configured key and
GraphiQL switched on) is opened by Debian's Chromium (`/usr/bin/chromium`, driven by Playwright
with no browser download). The page must render from pboss's own assets, say 401 plainly without
a key or with a wrong one, load the schema (introspection) and run a query with the key typed in
its key bar, and send that key with every request. With CI=true a missing browser fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import CHROMIUM
from tests.neo4j_server import free_port

pytestmark = pytest.mark.browser

KEY = "browser-engineer-key"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`pboss serve` on the embedded demo with one engineer key and GraphiQL on; its base URL."""
    port = free_port()
    cwd = tmp_path_factory.mktemp("serve")  # no stray .env of the checkout is read
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBOSS_") and k != "PYTHONPATH"}
    env.update(
        PYTHONPATH=str(ROOT),
        PBOSS_API_KEYS=json.dumps({KEY: "engineer"}),
        PBOSS_GRAPHIQL="true",
    )
    code = "from pboss.cli.main import app; app()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"pboss serve exited {proc.returncode}:\n{out}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("pboss serve did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _set_query(page: Any, query: str) -> None:
    """Replace the query editor's text (GraphiQL's CodeMirror instance)."""
    page.evaluate(
        "q => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q)",
        query,
    )


def _response_text(page: Any) -> str:
    return page.evaluate(
        "() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
    )


@pytest.mark.timeout(180)
def test_graphiql_works_offline_with_a_key(playwright: Any, server: str) -> None:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
    )
    try:
        page = browser.new_page()
        blocked: list[str] = []
        graphql_posts: list[tuple[str | None, str]] = []
        problems: list[str] = []

        def offline(route: Any) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        def seen(request: Any) -> None:
            if request.method == "POST" and urlsplit(request.url).path == "/graphql":
                body = json.loads(request.post_data or "{}")
                graphql_posts.append(
                    (
                        request.headers.get("authorization"),
                        body.get("operationName") or body.get("query") or "",
                    )
                )

        page.route("**/*", offline)
        page.on("request", seen)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console: {msg.text}")
                if msg.type == "error" and "401" not in msg.text
                else None
            ),
        )

        # The page renders from pboss's own assets; without a key the bar says 401.
        page.goto(server + "/graphql", wait_until="load")
        assert blocked == [], f"the page reached beyond 127.0.0.1: {blocked}"
        page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=30_000)
        assert page.locator(".graphiql-execute-button").is_visible()
        status = page.locator("#pboss-status")
        assert page.locator("#pboss-key").is_visible()
        page.wait_for_function(
            "() => document.querySelector('#pboss-status').textContent.includes('401')",
            timeout=30_000,
        )
        assert "no API key entered" in status.inner_text()
        assert status.get_attribute("class") == "error"

        # A wrong key: 401 again, said as such.
        page.fill("#pboss-key", "not-a-key")
        page.click("#pboss-key-apply")
        page.wait_for_function(
            "() => document.querySelector('#pboss-status').textContent.includes('does not know')",
            timeout=30_000,
        )

        # The right key: introspection succeeds, the docs show the schema's root types.
        page.fill("#pboss-key", KEY)
        page.click("#pboss-key-apply")
        page.wait_for_function(
            "() => document.querySelector('#pboss-status').textContent.includes('schema loaded')",
            timeout=30_000,
        )
        page.click("button[aria-label='Show Documentation Explorer']")
        page.wait_for_selector(".graphiql-doc-explorer-root-type >> text=Query", timeout=30_000)

        # A query runs and its result is shown.
        _set_query(page, "query BrowserProducts { products { id } }")
        page.click(".graphiql-execute-button")
        page.wait_for_function(
            "() => document.querySelector('.graphiql-response .CodeMirror')"
            ".CodeMirror.getValue().includes('FTTH-100M')",
            timeout=30_000,
        )
        result = json.loads(_response_text(page))
        assert {"id": "FTTH-100M"} in result["data"]["products"]

        assert blocked == [], f"the page reached beyond 127.0.0.1: {blocked}"
        assert problems == [], problems
        with_key = [op for auth, op in graphql_posts if auth == f"Bearer {KEY}"]
        assert "IntrospectionQuery" in with_key
        assert any("BrowserProducts" in op for op in with_key), with_key
        assert [auth for auth, _ in graphql_posts[-2:]] == [f"Bearer {KEY}"] * 2
    finally:
        browser.close()
