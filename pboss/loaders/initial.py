"""A first load through Neo4j's bulk importer (`pboss neo4j import`), for an empty database.

The same pass 1 as `pboss load` (file:line:column issues; a bad row and nothing is written)
writes the importer's CSV files as it accepts rows (`import_csv.py`) instead of spooling them.
Then, for a launcher's home: the database is checked empty once more, the server stopped, the
importer of the server's own version run into a scratch home, the result swapped in and the
server started again; the store creates its constraints and indexes, the properties CSV cannot
carry are set, repeated edges keep their last row, and the counts by label and type are compared
with pass 1's (`inventory/neo4j/imported.py`). Anything failing after the swap puts the old
(empty) database back: nothing is half imported. Incremental loads stay on `pboss load`.

For a server elsewhere (Docker, another machine), `write_import_files` writes the same files and
the `neo4j-admin database import full` command line to run there.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import printable
from pboss.inventory.neo4j import importer, local
from pboss.inventory.neo4j.imported import INDEX_WAIT_SECONDS, Settled, first_node, settle
from pboss.inventory.neo4j.queries.imports import AWAIT_INDEXES
from pboss.inventory.neo4j.store import Neo4jStore
from pboss.inventory.store import GraphStore
from pboss.loaders import loader
from pboss.loaders.chunks import batched
from pboss.loaders.import_csv import CsvSink, Written, read_patches
from pboss.loaders.issues import LoadError, LoadRefused
from pboss.loaders.lines import check_encoding
from pboss.loaders.loader import NativeSource, _checked
from pboss.loaders.parallel import validate_in_parallel
from pboss.loaders.progress import NoProgress, Progress
from pboss.loaders.validate import Validation, Validator

COMMAND_FILE = "import-command.txt"


class DatabaseNotEmpty(LoadError):
    """The bulk importer replaces the whole database: refused unless it is empty."""


@dataclass
class ImportReport:
    """What a bulk import did: pass 1's verdict, the files, what was fixed up, and the times."""

    files: list[str]
    validation: Validation
    written: Written
    settled: Settled | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    csv_dir: Path | None = None
    command: str | None = None

    def lines(self) -> list[str]:
        """A short human summary."""
        nodes = sum(self.written.nodes_by_kind.values())
        edges = sum(self.written.edges_by_type.values())
        out = [f"{nodes:,} nodes and {edges:,} edges accepted from {len(self.files)} file(s)"]
        if self.settled is not None:
            s = self.settled
            out.append(
                f"imported and checked: {sum(s.nodes.values()):,} nodes, "
                f"{sum(s.edges.values()):,} edges ({s.patched:,} properties set after the import, "
                f"{s.duplicates_deleted:,} repeated edge(s) kept once)"
            )
        times = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        out.append(f"times: {times}")
        return out


def _pass1(
    paths: Sequence[Path],
    store: GraphStore,
    catalog: Catalog,
    csv_dir: Path,
    *,
    encoding: str | None,
    max_issues: int,
    index_entries: int | None,
    progress: Progress,
    workers: int,
) -> tuple[list[str], Validation, Written, dict[str, float]]:
    """Validate the bundles as `pboss load` does, writing accepted rows as CSV at once; with
    more than one worker, reading and parsing rows runs in that many processes (`parallel.py`:
    the same result, measured no faster, so not the default)."""
    started = time.perf_counter()
    source = NativeSource(paths)
    enc = check_encoding(encoding or source.default_encoding())
    files = source.files
    sink = CsvSink(csv_dir)
    validator = Validator(
        store,
        catalog,
        store_empty=True,
        max_issues=max_issues,
        spool=sink,
        spill_at=index_entries,
    )
    try:
        progress.phase("validate", sum(f.path.stat().st_size for f in files))
        if workers > 1:
            kinds_done = [source.kinds_done(i) for i in range(len(files))]
            validate_in_parallel(validator, files, kinds_done, enc, progress, workers=workers)
        else:
            _serial(validator, source, enc, progress)
        validation = validator.finish()
        progress.done()
    finally:
        validator.close()
        written = sink.close()
    total = time.perf_counter() - started
    seconds = {"validate": total - written.seconds, "csv": written.seconds}
    return [f.display for f in files], validation, written, seconds


def _serial(validator: Validator, source: NativeSource, enc: str, progress: Progress) -> None:
    """Pass 1 in this process alone, file by file, as `pboss load` runs it."""
    for i in range(len(source.files)):
        validator.begin_file(i, source.kinds_done(i))
        records = source.records(i, enc, progress)
        stop = False
        for rows in _checked(validator, batched(records, loader.CHUNK)):
            progress.advance(rows=rows)
            if validator.too_many:
                stop = True
                break
        validator.end_file()
        if stop:
            break


def _refuse_unless_empty(store: Neo4jStore, where: str) -> None:
    """DatabaseNotEmpty naming a node it holds, unless the database holds none."""
    node = first_node(store.client)
    if node is not None:
        shown = f"{node.get('id')!r} ({':'.join(node.get('labels') or [])})"
        raise DatabaseNotEmpty(
            f"{where}: the database is not empty (it holds {shown}, at least); the bulk "
            "importer replaces the whole database, so it is only for a first load: load into "
            "a database holding data with `pboss load`, nothing was written"
        )


def write_import_files(
    paths: Sequence[Path],
    out_dir: Path,
    *,
    catalog: Catalog | None = None,
    encoding: str | None = None,
    max_issues: int = 1000,
    index_entries: int | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> ImportReport:
    """Validate and write the importer's files and command line to `out_dir` (for a server run
    elsewhere); LoadRefused (and no files) when a row is invalid."""
    catalog = catalog or default_catalog()
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise LoadError(f"{out_dir}: exists and is not an empty directory; name a new one")
    files, validation, written, seconds = _pass1(
        paths,
        MemoryStore(catalog),
        catalog,
        out_dir,
        encoding=encoding,
        max_issues=max_issues,
        index_entries=index_entries,
        progress=progress or NoProgress(),
        workers=workers,
    )
    if not validation.ok:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise LoadRefused(validation.issues, validation.issue_count)
    command = importer.admin_command(written.plan, out_dir)
    (out_dir / COMMAND_FILE).write_text(command + "\n", encoding="utf-8")
    return ImportReport(files, validation, written, None, seconds, out_dir, command)


def initial_import(
    paths: Sequence[Path],
    home: Path,
    *,
    catalog: Catalog | None = None,
    encoding: str | None = None,
    max_issues: int = 1000,
    index_entries: int | None = None,
    importer_heap: str = "1g",
    threads: int | None = None,
    max_off_heap: str | None = None,
    port: int = 7687,
    heap: str = "1g",
    pagecache: str = "512m",
    timeout: float = 600,
    progress: Progress | None = None,
    workers: int = 1,
) -> ImportReport:
    """Bulk-import bundles into the empty database of the launcher's `home` (started first if
    it is not running, with `port`, `heap`, `pagecache`); see the module docstring.

    Raises DatabaseNotEmpty or LoadRefused (nothing written), or LoadError when the import or
    its check fails (the database is then put back as it was).
    """
    catalog = catalog or default_catalog()
    progress = progress or NoProgress()
    home = Path(home).expanduser().resolve()
    info = local.status(home)
    if info and info.get("alive"):
        uri = str(info["uri"])
    else:
        uri = local.start(home, port=port, heap=heap, pagecache=pagecache, timeout=timeout)
    settings = importer.started_with(home)
    auth = local.credentials(home)
    work = home / importer.WORK_DIR
    csv_dir = work / "csv"
    shutil.rmtree(work, ignore_errors=True)  # a previous import's leftovers (ours alone)
    store = Neo4jStore(uri, auth, catalog=catalog)
    try:
        _refuse_unless_empty(store, uri)
        files, validation, written, seconds = _pass1(
            paths,
            store,
            catalog,
            csv_dir,
            encoding=encoding,
            max_issues=max_issues,
            index_entries=index_entries,
            progress=progress,
            workers=workers,
        )
        if not validation.ok:
            shutil.rmtree(work, ignore_errors=True)
            raise LoadRefused(validation.issues, validation.issue_count)
        _refuse_unless_empty(store, uri)  # again, just before the server stops
    except BaseException:
        store.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    store.close()
    report = ImportReport(files, validation, written, seconds=seconds)
    written.plan.threads = threads
    written.plan.max_off_heap = max_off_heap

    t = time.perf_counter()
    importer.wait_stopped(home)
    report.seconds["stop"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        importer.run_import(written.plan, work / "scratch", heap=importer_heap)
        swap = importer.swap_in(home, work / "scratch")
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        importer.restart(home, settings, timeout)
        if not isinstance(exc, Exception):
            raise
        raise LoadError(f"{printable(str(exc))}; nothing was imported") from exc
    report.seconds["import"] = time.perf_counter() - t

    try:
        t = time.perf_counter()
        uri = importer.restart(home, settings, timeout)
        report.seconds["start"] = time.perf_counter() - t
        t = time.perf_counter()
        store = Neo4jStore(uri, auth, catalog=catalog)  # creates the constraints and indexes
        try:
            store.client.run_auto(AWAIT_INDEXES, seconds=INDEX_WAIT_SECONDS)
            report.seconds["schema"] = time.perf_counter() - t
            t = time.perf_counter()
            report.settled = settle(
                store.client,
                read_patches(written.patches),
                written.duplicate_candidates,
                written.nodes_by_kind,
                written.edges_by_type,
            )
            report.seconds["check"] = time.perf_counter() - t
        finally:
            store.close()
    except BaseException as exc:
        importer.wait_stopped(home)
        swap.undo()
        importer.restart(home, settings, timeout)
        if not isinstance(exc, Exception):
            raise
        raise LoadError(
            f"{printable(str(exc))}; the import was undone: the database is as it was"
        ) from exc
    swap.commit()
    return report
