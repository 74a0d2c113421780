"""The command line as an operator meets it: `python -m pboss` runs the `pboss` command, and a
Neo4j that does not answer is one clear line saying how to start one (exit 2, no traceback)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pboss(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m pboss ARGS` from this checkout, in a fresh interpreter."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pboss", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
        cwd=ROOT,
    )


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_python_dash_m_pboss_is_the_pboss_command() -> None:
    done = _pboss("--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: pboss" in done.stdout
    for command in ("serve", "load", "export", "neo4j", "schema"):
        assert command in done.stdout


@pytest.mark.parametrize("command", ["serve", "export"])
def test_a_neo4j_that_refuses_connections_suggests_starting_one(
    command: str, tmp_path: Path
) -> None:
    uri = f"bolt://127.0.0.1:{_closed_port()}"
    args = ["serve", "--store", "neo4j"] if command == "serve" else [
        "export", str(tmp_path / "out.json"), "--store", "neo4j", "--neo4j-uri", uri,
    ]  # fmt: skip
    keys = '{"a-long-enough-test-key-0123456789": "admin"}'
    done = _pboss(*args, env={"PBOSS_NEO4J_URI": uri, "PBOSS_API_KEYS": keys})
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    assert f"cannot open the neo4j store at {uri}" in done.stderr
    assert "pboss neo4j start" in done.stderr
