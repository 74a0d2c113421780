"""``pboss neo4j import``: a first load through Neo4j's bulk importer (see loaders/initial.py).

Exit codes as `pboss load`: 0 imported and checked, 1 invalid rows (nothing written), 2 a
database that is not empty, bad arguments or files, or an import that failed (and was undone).
"""

from __future__ import annotations

from pathlib import Path

import typer

from pboss.inventory.errors import PbossError
from pboss.inventory.neo4j import local as neo4j_local


def import_bundles(
    paths: list[Path] = typer.Argument(..., help="bundle directories or NDJSON files"),
    home: Path | None = typer.Option(
        None, "--home", help="instance directory (PBOSS_NEO4J_HOME, else .pboss/neo4j)"
    ),
    csv_only: Path | None = typer.Option(
        None,
        "--csv-only",
        help="only validate and write the importer's files and command line to this directory "
        "(for a server in Docker or elsewhere: run the command there, server stopped)",
    ),
    encoding: str | None = typer.Option(None, help="file encoding (default utf-8)"),
    max_issues: int = typer.Option(1000, min=1, help="issues listed at most"),
    index_entries: int | None = typer.Option(
        None, min=1, help="ids validation keeps in memory, twice over (as `pboss load`)"
    ),
    importer_heap: str = typer.Option("1g", help="the importer's JVM heap"),
    threads: int | None = typer.Option(None, min=1, help="the importer's threads (default: cores)"),
    max_off_heap: str | None = typer.Option(
        None, help="the importer's off-heap memory cap, e.g. 2g (default: Neo4j's)"
    ),
    port: int = typer.Option(7687, help="Bolt port, when the instance must be started first"),
    heap: str = typer.Option("1g", help="server heap, when the instance must be started first"),
    pagecache: str = typer.Option("512m", help="page cache, when it must be started first"),
    workers: int = typer.Option(
        1,
        min=1,
        help="processes reading and parsing rows in pass 1 (same result; measured no faster: "
        "see bench/README.md)",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
) -> None:
    """First load of an EMPTY database with Neo4j's bulk importer (validated as `pboss load`)."""
    from pboss.bootstrap import register_kinds
    from pboss.config import Settings
    from pboss.inventory.catalog import load_catalog
    from pboss.loaders.initial import initial_import, write_import_files
    from pboss.loaders.issues import LoadRefused
    from pboss.loaders.progress import make_progress

    register_kinds()
    progress = make_progress(quiet)
    try:
        catalog = load_catalog(Settings().catalog)
        if csv_only is not None:
            report = write_import_files(
                paths, csv_only, catalog=catalog, encoding=encoding, max_issues=max_issues,
                index_entries=index_entries, progress=progress, workers=workers,
            )  # fmt: skip
        else:
            where = home if home is not None else neo4j_local.default_home()
            report = initial_import(
                paths, where, catalog=catalog, encoding=encoding, max_issues=max_issues,
                index_entries=index_entries, importer_heap=importer_heap, threads=threads,
                max_off_heap=max_off_heap, port=port, heap=heap, pagecache=pagecache,
                progress=progress, workers=workers,
            )  # fmt: skip
    except LoadRefused as exc:
        progress.close()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except (PbossError, neo4j_local.Neo4jLaunchError, ValueError) as exc:
        progress.close()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        progress.close()
        typer.echo(f"error: {exc.filename or ''}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    progress.close()
    for line in report.lines():
        typer.echo(line)
    if report.command is not None:
        typer.echo(f"files in {report.csv_dir}; run there, with that server stopped:")
        typer.echo(report.command)
        if report.written.patch_count or report.written.duplicate_candidates:
            typer.echo(
                f"note: {report.written.patch_count} propert(ies) the CSV format cannot carry "
                f"(listed in {report.written.patches}) and "
                f"{len(report.written.duplicate_candidates)} edge(s) given twice are not in "
                "the files; `pboss neo4j import` against a launcher home sets them"
            )
