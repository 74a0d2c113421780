"""The streaming loader: validate everything (pass 1), then write in batches (pass 2).

Atomic by default: any invalid row and nothing is written. With `skip_invalid`, the valid rows are
written and the invalid ones (and rows that depend on them) go to a rejects file. Files are read
once, never held: pass 1 spools the rows it accepts to a temporary file that pass 2 writes from
(spool.py), and the validator keeps only the newest part of its id index in memory (spill.py), so
memory is that part plus one chunk and two batches in flight (see validate.py).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Protocol

from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.impact import Acknowledgement
from pboss.inventory.model import printable
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore
from pboss.loaders import jsonio
from pboss.loaders.apply import BatchWriter
from pboss.loaders.chunks import batched
from pboss.loaders.drift import compute_drift, prune
from pboss.loaders.issues import LoadError, LoadRefused
from pboss.loaders.journal import Journal
from pboss.loaders.lines import check_encoding
from pboss.loaders.native import InputFile, discover, is_bundle, node_kinds_in_order, read_records
from pboss.loaders.progress import NoProgress, Progress
from pboss.loaders.records import Record
from pboss.loaders.report import LoadReport
from pboss.loaders.spool import Spool
from pboss.loaders.validate import Validator

CHUNK = 2000


class Source(Protocol):
    """Where records come from: the native format or a partner feed through its mapping."""

    files: list[InputFile]

    def records(self, index: int, encoding: str, progress: Progress) -> Iterator[Record]:
        """The records of file `index`, in order."""
        ...

    def kinds_done(self, index: int) -> frozenset[str] | None:
        """Kinds no row after this file's start can define (None: every kind)."""
        ...

    def default_encoding(self) -> str:
        """The encoding files are in unless the user says otherwise."""
        ...


class NativeSource:
    """Bundles and single NDJSON files of the native interchange format."""

    def __init__(self, paths: Sequence[Path]):
        self.files = discover(paths)

    def records(self, index: int, encoding: str, progress: Progress) -> Iterator[Record]:
        """Rows of one file, as records."""
        return read_records(index, self.files[index], encoding, lambda n: progress.advance(n))

    def kinds_done(self, index: int) -> frozenset[str] | None:
        """Node files come in kind order, so the kinds ranked before this file's are complete."""
        f = self.files[index]
        if f.is_edges:
            return None
        if f.kind is None:
            return frozenset()
        order = node_kinds_in_order()
        return frozenset(order[: order.index(f.kind)])

    def default_encoding(self) -> str:
        """Native files are UTF-8."""
        return "utf-8"


@dataclass
class LoadOptions:
    """How to load: dry run, skipping invalid rows, encoding, batch size, pruning."""

    dry_run: bool = False
    skip_invalid: bool = False
    rejects: Path | None = None
    encoding: str | None = None
    batch_size: int = 5000
    prune: bool = False
    #: prune drifted nodes even when services ride them (riders drifted too go first); without
    #: it a drifted node with riders is kept and listed
    prune_with_riders: bool = False
    #: let status changes take live services down (RETIRED, MAINTENANCE of ridden resources);
    #: without it such a change refuses the load, which is then undone
    accept_impact: bool = False
    max_issues: int = 1000
    actor: str = "loader"
    reason: str = "load"
    #: Batches written at once (see writer.py): with Neo4j, two use both of its cores' worth of
    #: work where one leaves the database waiting on each commit.
    workers: int = 2
    #: Index entries pass 1 keeps in memory per generation (two generations); older ones go to a
    #: temporary SQLite file (spill.py), so memory stays flat however large the feed. None: the
    #: default, `spill.SPILL_AT`.
    index_entries: int | None = None


def _checked(validator: Validator, chunks: Iterable[list[Record]]) -> Iterator[int]:
    """Check chunks in order, parsing the next one while the current one's index look-ups run
    on disk (another core: see spill.py); yields the rows of each chunk once checked."""
    pending = None
    for records in chunks:
        ready = validator.parse(records)
        if pending is not None:
            validator.check_parsed(pending)
            yield len(pending.records)
        validator.prefetch(ready)  # after the chunk before it was checked and settled
        pending = ready
    if pending is not None:
        validator.check_parsed(pending)
        yield len(pending.records)


class Loader:
    """Runs one load of one source into one store."""

    def __init__(
        self,
        store: GraphStore,
        options: LoadOptions | None = None,
        *,
        catalog: Catalog | None = None,
        progress: Progress | None = None,
    ):
        self.store = store
        self.options = options or LoadOptions()
        self.catalog = catalog or getattr(store, "catalog", None) or default_catalog()
        self.progress = progress or NoProgress()

    def run(self, source: Source) -> LoadReport:
        """Validate, report drift, then (unless refused or a dry run) write; see the module doc."""
        opts = self.options
        encoding = check_encoding(opts.encoding or source.default_encoding())
        files = source.files
        total = sum(f.path.stat().st_size for f in files)
        started = time.perf_counter()
        store_empty = self.store.find(FindQuery(limit=1)).total == 0
        with contextlib.ExitStack() as cleanup:
            spool = None if opts.dry_run else cleanup.enter_context(contextlib.closing(Spool()))
            rejected = None
            if opts.skip_invalid and not opts.dry_run:
                rejected = cleanup.enter_context(tempfile.TemporaryFile(prefix="pboss-rejects-"))
            validator = Validator(
                self.store,
                self.catalog,
                store_empty=store_empty,
                max_issues=opts.max_issues,
                spool=spool,
                on_reject=None if rejected is None else partial(self._reject, rejected),
                spill_at=opts.index_entries,
            )
            cleanup.callback(validator.close)  # its index files on disk
            return self._run(source, encoding, validator, spool, rejected, total, started)

    def _run(
        self,
        source: Source,
        encoding: str,
        validator: Validator,
        spool: Spool | None,
        rejected: IO[bytes] | None,
        total: int,
        started: float,
    ) -> LoadReport:
        """Pass 1, the drift report, then pass 2 unless refused or a dry run."""
        opts = self.options
        files = source.files
        self.progress.phase("validate", total)
        stopped = False
        for i in range(len(files)):
            validator.begin_file(i, source.kinds_done(i))
            records = source.records(i, encoding, self.progress)
            for rows in _checked(validator, batched(records, CHUNK)):
                self.progress.advance(rows=rows)
                if validator.too_many and not opts.skip_invalid:
                    stopped = True
                    break
            validator.end_file()
            if stopped:
                break
        validation = validator.finish()
        self.progress.done()
        report = LoadReport(
            files=[f.display for f in files],
            dry_run=opts.dry_run,
            validation=validation,
            stopped_early=stopped,
        )
        report.warnings += getattr(source, "warnings", [])
        report.seconds["validate"] = time.perf_counter() - started
        if not validation.ok and not opts.skip_invalid:
            return report
        if not validator.store_empty:
            t = time.perf_counter()
            report.drift = compute_drift(self.store, validation)
            report.drift.statuses += getattr(source, "status_drift", [])
            report.seconds["drift"] = time.perf_counter() - t
        if opts.dry_run or spool is None:
            return report
        t = time.perf_counter()
        if rejected is not None and validation.bad:  # before writing: kept if pass 2 fails
            report.rejects_path = opts.rejects or Path("rejects.ndjson")
            rejected.seek(0)
            with report.rejects_path.open("wb") as out:
                shutil.copyfileobj(rejected, out)
            report.rejects_written = len(validation.bad)
        self._write(spool, report)
        report.seconds["write"] = time.perf_counter() - t
        if opts.prune and report.drift is not None and report.drift.nodes:
            t = time.perf_counter()
            report.pruned, report.prune_kept = prune(
                self.store, report.drift, opts.actor, with_riders=opts.prune_with_riders
            )
            report.seconds["prune"] = time.perf_counter() - t
        return report

    def _write(self, spool: Spool, report: LoadReport) -> None:
        """Pass 2: write what pass 1 accepted, from the spool, in batches; if it cannot finish,
        undo the batches written (journal.py), so the store is as it was before the load."""
        opts = self.options
        journal = Journal(self.store, opts.actor, opts.reason)
        writer = BatchWriter(
            self.store,
            opts.batch_size,
            actor=opts.actor,
            reason=opts.reason,
            workers=opts.workers,
            journal=journal,
            ack=Acknowledgement(accept=opts.accept_impact),
        )
        self.progress.phase("write", spool.size())
        try:
            rows = 0
            for row in spool.replay(lambda n: self.progress.advance(n)):
                writer.add(row)
                rows += 1
                if rows % CHUNK == 0:
                    self.progress.advance(rows=CHUNK)
            self.progress.advance(rows=rows % CHUNK)
            report.result = writer.close()
        except BaseException as exc:  # a refused batch, a lost store, an interrupt
            writer.abort()  # send nothing more; wait for the batches in flight
            outcome = _roll_back(journal)
            if not isinstance(exc, Exception):
                raise  # Ctrl-C: rolled back (or said why not), then stop as asked
            raise LoadError(f"{printable(str(exc))}; {outcome}") from exc
        finally:
            journal.close()
            self.progress.done()

    @staticmethod
    def _reject(out: IO[bytes], rec: Record, reason: str) -> None:
        """Append one rejected row to the (temporary) rejects file, as pass 1 finds it."""
        row = {"file": rec.file, "line": rec.line, "reason": reason, "row": rec.text}
        out.write(jsonio.dumps(row) + b"\n")


def _roll_back(journal: Journal) -> str:
    """Undo what the load wrote; says what became of the store (for the error message)."""
    parts = journal.records
    try:
        journal.rollback()
    except Exception as exc:
        return (
            f"undoing the {journal.records} of {parts} batch part(s) written before also failed "
            f"({printable(str(exc))}): the store holds part of this load; loads are idempotent, "
            "so fix the cause and run the same load again"
        )
    if not parts:
        return "nothing had been written"
    return f"the {parts} batch part(s) written before were undone: the store is as it was"


def load_paths(
    store: GraphStore,
    paths: Sequence[Path],
    options: LoadOptions | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load native bundles or files into a store; raises LoadRefused if invalid rows stop it."""
    report = Loader(store, options, progress=progress).run(NativeSource(paths))
    if report.refused:
        raise LoadRefused(report.issues, report.validation.issue_count)
    return report


def load_directory(store: GraphStore, path: Path, progress: Progress | None = None) -> LoadReport:
    """Load a bundle, or every bundle directly below `path` in name order (PBOSS_LOAD_DIR)."""
    if not path.is_dir():
        raise LoadError(f"{path}: not a directory")
    bundles = [path] if is_bundle(path) else sorted(p for p in path.iterdir() if is_bundle(p))
    if not bundles:
        raise LoadError(f"{path}: holds no pboss bundle (manifest.json, nodes/ or edges/)")
    return load_paths(store, bundles, LoadOptions(actor="startup", reason=f"load {path}"), progress)
