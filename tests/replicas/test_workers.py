"""`pboss serve --workers N`: refused on the embedded store; workers never repeat the start-up load.

Workers serving Neo4j for real run in tests/replicas/test_replicas.py (one replica is
`serve --workers 2`)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pboss.cli.main import app
from pboss.config import Settings
from pboss.http.workers import worker_settings


def test_several_workers_on_the_embedded_store_are_refused() -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--store", "memory"])
    assert result.exit_code == 2
    assert "needs a store the workers share" in result.output


def test_workers_leave_the_start_up_load_to_the_parent(tmp_path: Path) -> None:
    settings = Settings(store="neo4j", demo=True, load_dir=tmp_path, load_feeds="a.csv:tt")
    worker = worker_settings(settings)
    assert (worker.demo, worker.load_dir, worker.load_feeds) == (False, None, None)
    assert worker.store == "neo4j" and worker.neo4j_uri == settings.neo4j_uri
