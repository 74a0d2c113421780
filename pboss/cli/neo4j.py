"""``pboss neo4j start|stop|status|build|import``: a local Neo4j Community without Docker.

Mounted by ``pboss.cli.main`` as the ``neo4j`` command group; see
:mod:`pboss.inventory.neo4j.local`.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pboss.cli.neo4j_import import import_bundles
from pboss.inventory.neo4j import local as neo4j_local

neo4j_app = typer.Typer(
    help="Start, stop or check a local Neo4j Community (embedded launcher, no Docker).",
    no_args_is_help=True,
)

_HOME_HELP = "instance directory (PBOSS_NEO4J_HOME, else .pboss/neo4j)"


def _home(home: Path | None) -> Path:
    return home if home is not None else neo4j_local.default_home()


@neo4j_app.command()
def start(
    home: Path | None = typer.Option(None, "--home", help=_HOME_HELP),
    port: int = typer.Option(7687, "--port", help="Bolt port on 127.0.0.1"),
    heap: str = typer.Option("1g", "--heap", help="JVM max heap, e.g. 1g"),
    pagecache: str = typer.Option("512m", "--pagecache", help="Neo4j page cache, e.g. 512m"),
    timeout: float = typer.Option(180.0, "--timeout", help="seconds to wait for Bolt"),
) -> None:
    """Start Neo4j (building the launcher on first use); print its Bolt URI and login."""
    where = _home(home)
    try:
        uri = neo4j_local.start(where, port=port, heap=heap, pagecache=pagecache, timeout=timeout)
    except (neo4j_local.Neo4jLaunchError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(uri)
    login = neo4j_local.credentials(where)
    if login is not None:
        password_file = where.expanduser().resolve() / neo4j_local.PASSWORD_FILE
        typer.echo(f"user {login[0]}, password {login[1]} (kept in {password_file}, mode 600)")
        typer.echo(
            "pboss logs in by itself (`pboss serve --store neo4j`); other clients: "
            f"PBOSS_NEO4J_USER={login[0]} PBOSS_NEO4J_PASSWORD=<the password>"
        )


@neo4j_app.command()
def stop(
    home: Path | None = typer.Option(None, "--home", help=_HOME_HELP),
    timeout: float = typer.Option(60.0, "--timeout", help="seconds before SIGKILL"),
) -> None:
    """Stop Neo4j cleanly (SIGTERM, SIGKILL as a last resort)."""
    try:
        stopped = neo4j_local.stop(_home(home), timeout=timeout)
    except neo4j_local.Neo4jLaunchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("stopped" if stopped else "not running")


@neo4j_app.command()
def status(
    home: Path | None = typer.Option(None, "--home", help=_HOME_HELP),
    as_json: bool = typer.Option(False, "--json", help="print the status as JSON"),
) -> None:
    """Show pid, port, URI and whether it runs; exit code 1 when it does not."""
    info = neo4j_local.status(_home(home))
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    elif info is None:
        typer.echo("not running")
    else:
        state = "running" if info["alive"] else "dead (stale pid file)"
        if info["alive"] and not info["ready"]:
            state = "starting"
        typer.echo(f"{state}: pid {info['pid']} {info['uri']} (home {info['home']})")
    if not (info and info["alive"]):
        raise typer.Exit(1)


@neo4j_app.command()
def build() -> None:
    """Build tools/neo4j-local with Maven if needed (e.g. to warm a CI cache); print the jar."""
    try:
        jar = neo4j_local.build()
    except neo4j_local.Neo4jLaunchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(str(jar))


neo4j_app.command("import")(import_bundles)
