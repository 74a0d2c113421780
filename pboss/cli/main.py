"""The `pboss` command: serve, neo4j, load/export/generate, bench helpers."""

from __future__ import annotations

import typer

from pboss.cli import cutover, data, keys, schema
from pboss.cli.neo4j import neo4j_app

app = typer.Typer(help="pboss: resource inventory and provisioning for broadband operators.")


@app.command()
def serve(
    host: str | None = typer.Option(None, help="address to listen on (PBOSS_HOST)"),
    port: int | None = typer.Option(None, help="port to listen on (PBOSS_PORT)"),
    store: str | None = typer.Option(None, help="memory (default) or neo4j (PBOSS_STORE)"),
    workers: int = typer.Option(
        1, min=1, help="API processes on this port, each a full app (Neo4j only)"
    ),
) -> None:
    """Run the API service on the configured store (the embedded one by default)."""
    import os

    import uvicorn
    from pydantic import ValidationError

    from pboss.cli.hints import settings_problem, store_failure
    from pboss.config import Settings

    overrides = {k: v for k, v in {"host": host, "port": port, "store": store}.items() if v}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:  # a malformed PBOSS_* variable: named, in one line
        typer.echo(f"pboss: {settings_problem(exc)}", err=True)
        raise typer.Exit(2) from None
    from pboss.http.app import create_app
    from pboss.http.workers import WORKER_APP, NeedsSharedStore, check_workers, load_once
    from pboss.inventory.errors import PbossError, StoreUnavailable

    try:
        check_workers(settings, workers)
        if workers > 1:  # load once here; each worker then builds its own app from PBOSS_*
            for line in load_once(settings):
                typer.echo(f"start-up: {line}")
            os.environ.update({f"PBOSS_{k.upper()}": str(v) for k, v in overrides.items()})
            typer.echo(
                f"pboss on the {settings.store} store, {workers} workers: "
                f"http://{settings.host}:{settings.port}/graphql"
            )
            if settings.console:
                typer.echo(f"console: http://{settings.host}:{settings.port}/ui")
            uvicorn.run(
                WORKER_APP,
                factory=True,
                workers=workers,
                host=settings.host,
                port=settings.port,
                log_level="info",
            )
            return
        api = create_app(settings)
    except NeedsSharedStore as exc:
        typer.echo(f"pboss: {exc}", err=True)
        raise typer.Exit(2) from None
    except StoreUnavailable as exc:  # nothing answers at the Neo4j address: say what to do
        typer.echo(f"pboss: {store_failure(settings, exc)}", err=True)
        raise typer.Exit(2) from None
    except PbossError as exc:  # e.g. stored data the model refuses: said in one line
        typer.echo(f"pboss: {exc}", err=True)
        raise typer.Exit(2) from None
    for line in api.state.pboss["loaded"]:
        typer.echo(f"start-up: {line}")
    typer.echo(
        f"pboss on the {settings.store} store: http://{settings.host}:{settings.port}/graphql"
    )
    if settings.console:
        typer.echo(f"console: http://{settings.host}:{settings.port}/ui")
    uvicorn.run(api, host=settings.host, port=settings.port, log_level="info")


data.register(app)
schema.register(app)
keys.register(app)
cutover.register(app)
app.add_typer(neo4j_app, name="neo4j", help="Start, stop or check a local Neo4j (no Docker).")
