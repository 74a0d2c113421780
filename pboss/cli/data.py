"""`pboss load`, `pboss export` and `pboss generate`: moving inventory in and out of a store.

`pboss load` is meant for Neo4j: the embedded memory store lives inside one process, so what a
separate `pboss load` writes into it is gone when the command exits (it still validates and
reports, like a dry run, and says so: MEMORY_NOTE). To serve files from the memory store, name
them to `pboss serve` (PBOSS_LOAD_DIR for bundles and feeds/<mapping>/*.csv, PBOSS_LOAD_FEEDS for
partner feeds), which loads them at start-up (pboss.loaders.startup). Exit codes: 0 done, 1
invalid rows (nothing written unless --skip-invalid), 2 bad arguments, files, mapping or an
unreachable store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pboss.inventory.errors import PbossError
from pboss.inventory.store import GraphStore

if TYPE_CHECKING:
    from pboss.crm.touch import Touches

STORE_HELP = "memory or neo4j (PBOSS_STORE); the loader is meant for neo4j"
MEMORY_NOTE = (
    "note: --store memory is a throw-away store: it starts empty in this command's own process "
    "and is gone when the command exits, so nothing loaded here reaches a running `pboss serve` "
    "(and a partner feed finds none of our sites in it: every row says 'no site matches'). "
    "This run only checks the files. To load for real: --store neo4j; to feed the embedded "
    "store a server runs: PBOSS_LOAD_DIR (bundles, and feeds in its feeds/<mapping>/*.csv) or "
    "PBOSS_LOAD_FEEDS=file.csv:mapping[:encoding],... when starting `pboss serve`"
)


class ScaleName(StrEnum):
    """The generator's sizes."""

    tiny = "tiny"
    small = "small"
    medium = "medium"
    large = "large"


def _fail(message: str, code: int) -> typer.Exit:
    """Print an error and return the Exit to raise with its code."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def open_cli_store(store: str | None, neo4j_uri: str | None) -> Iterator[GraphStore]:
    """The configured store, with connection problems turned into exit code 2."""
    from pydantic import ValidationError

    from pboss.bootstrap import open_store
    from pboss.cli.hints import settings_problem, store_failure
    from pboss.config import Settings

    overrides = {k: v for k, v in {"store": store, "neo4j_uri": neo4j_uri}.items() if v}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise _fail(settings_problem(exc), 2) from None
    try:
        opened = open_store(settings)
    except Exception as exc:  # the driver's many connection errors, a bad catalog file...
        raise _fail(store_failure(settings, exc), 2) from None
    try:
        yield opened
    finally:
        opened.close()


def _publish(target: GraphStore, touches: Touches) -> None:
    """Publish CRM's figures of the packages a load changed (one event per package); a failure
    is reported, not fatal: the load is committed and the servers' reconcile publishes it."""
    from pboss.config import Settings
    from pboss.crm.publisher import publish_touched
    from pboss.inventory.catalog import default_catalog

    catalog = getattr(target, "catalog", None) or default_catalog()
    try:
        outcome = publish_touched(target, catalog, touches, Settings())
    except Exception as exc:  # the load stands; say why CRM was not told yet
        typer.echo(f"warning: business resources not published ({exc}); the servers' "
                   "periodic reconcile will publish them", err=True)  # fmt: skip
        return
    if outcome is not None:
        typer.echo(f"published {len(outcome.events):,} business resource change(s) for "
                   f"{outcome.checked:,} site(s) checked", err=True)  # fmt: skip


def load(
    paths: list[Path] = typer.Argument(
        ..., help="bundle directories or files (partner CSVs with --mapping)"
    ),
    mapping: str | None = typer.Option(
        None, help="partner feed mapping: a TOML file or a shipped name"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate and report; write nothing"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="load the valid rows, write the rest to --rejects"
    ),
    rejects: Path = typer.Option(
        Path("rejects.ndjson"), help="where --skip-invalid writes rejected rows"
    ),
    encoding: str | None = typer.Option(
        None, help="file encoding, e.g. gbk (default utf-8 or the mapping's)"
    ),
    batch_size: int = typer.Option(5000, min=1, help="elements per write transaction"),
    workers: int = typer.Option(2, min=1, help="write transactions in flight at once"),
    index_entries: int | None = typer.Option(
        None,
        min=1,
        help="ids validation keeps in memory, twice over (default 8192); older ones go to a "
        "temporary file, so memory stays flat; more: faster on very large feeds",
    ),
    prune: bool = typer.Option(
        False,
        "--prune",
        help="delete drifted nodes (in the feed's scope, not in it); never one with riders",
    ),
    prune_with_riders: bool = typer.Option(
        False,
        "--prune-with-riders",
        help="with --prune: also delete drifted nodes live services ride, accepting the impact "
        "the report lists (only where those services are drifted too; never cascades)",
    ),
    accept_impact: bool = typer.Option(
        False,
        "--accept-impact",
        help="let status changes take live services down (RETIRED or MAINTENANCE of resources "
        "services ride); without it such a row refuses the load, which is undone",
    ),
    store: str | None = typer.Option(None, help=STORE_HELP),
    neo4j_uri: str | None = typer.Option(None, help="bolt URI (PBOSS_NEO4J_URI)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
) -> None:
    """Validate and load inventory files: atomic unless --skip-invalid, idempotent."""
    from pboss.crm.touch import Touches, TouchingStore
    from pboss.loaders.feeds import FeedSource, load_mapping
    from pboss.loaders.loader import Loader, LoadOptions, NativeSource, Source
    from pboss.loaders.progress import make_progress

    options = LoadOptions(
        dry_run=dry_run, skip_invalid=skip_invalid, rejects=rejects, encoding=encoding,
        batch_size=batch_size, workers=workers, index_entries=index_entries, prune=prune,
        prune_with_riders=prune_with_riders, accept_impact=accept_impact,
        actor="pboss-load",
        reason=f"load {' '.join(str(p) for p in paths)}",
    )  # fmt: skip
    if prune_with_riders and not prune:
        raise _fail("--prune-with-riders goes with --prune", 2)
    progress = make_progress(quiet or as_json)
    try:
        with open_cli_store(store, neo4j_uri) as target:
            if target.name == "memory":
                typer.echo(MEMORY_NOTE, err=True)
            source: Source
            if mapping:
                source = FeedSource(load_mapping(mapping), paths, target)
            else:
                source = NativeSource(paths)
            touches = Touches()
            report = Loader(TouchingStore(target, touches), options, progress=progress).run(source)
            if report.result is not None and target.name != "memory":
                _publish(target, touches)
    except PbossError as exc:
        raise _fail(str(exc), 2) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or ''}: {exc.strerror or exc}", 2) from None
    finally:
        progress.close()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        typer.echo("\n".join(str(i) for i in report.issues), err=True)
    else:
        typer.echo(report.render())
    if not report.validation.ok and not skip_invalid:
        raise typer.Exit(1)


def export(
    directory: Path = typer.Argument(..., help="bundle directory to write"),
    force: bool = typer.Option(False, "--force", help="replace a bundle already there"),
    store: str | None = typer.Option(None, help=STORE_HELP),
    neo4j_uri: str | None = typer.Option(None, help="bolt URI (PBOSS_NEO4J_URI)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
) -> None:
    """Write the whole store in the native interchange format (what `pboss load` reads)."""
    from pboss.loaders.export import export_bundle
    from pboss.loaders.progress import make_progress

    progress = make_progress(quiet)
    try:
        with open_cli_store(store, neo4j_uri) as source:
            counts = export_bundle(source, directory, overwrite=force, progress=progress)
    except PbossError as exc:
        raise _fail(str(exc), 2) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or directory}: {exc.strerror or exc}", 2) from None
    finally:
        progress.close()
    total = sum(counts.values())
    typer.echo(f"exported {total:,} rows in {len(counts)} file(s) to {directory}")


def generate(
    scale: ScaleName = typer.Option(
        ScaleName.tiny, help="tiny ~1k nodes, small ~50k, medium ~500k, large ~5M"
    ),
    seed: int = typer.Option(1, help="random seed: the same seed and scale give the same files"),
    out: Path | None = typer.Option(None, help="bundle directory (default generated-SCALE-SEED)"),
    force: bool = typer.Option(False, "--force", help="replace a bundle already there"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
) -> None:
    """Generate a Shanghai-like metro as a native bundle (demos, tests, benchmarks)."""
    from pboss.loaders.generator import generate as run
    from pboss.loaders.progress import make_progress

    target = out or Path(f"generated-{scale.value}-{seed}")
    progress = make_progress(quiet)
    try:
        summary = run(target, scale.value, seed, overwrite=force, progress=progress)
    except PbossError as exc:
        raise _fail(str(exc), 2) from None
    except (OSError, ValueError) as exc:
        raise _fail(str(exc), 2) from None
    finally:
        progress.close()
    typer.echo(
        f"generated {scale.value} (seed {seed}): {summary.nodes:,} nodes, {summary.edges:,} edges "
        f"in {target}"
    )


def register(app: typer.Typer) -> None:
    """Add the data commands to the `pboss` command."""
    app.command("load")(load)
    app.command("export")(export)
    app.command("generate")(generate)
