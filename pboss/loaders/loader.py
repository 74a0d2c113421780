"""The streaming loader: validate everything (pass 1), then write in batches (pass 2).

Atomic by default: any invalid row and nothing is written. With `skip_invalid`, the valid rows are
written and the invalid ones (and rows that depend on them) go to a rejects file. Files are read
twice, never held: memory is the validator's id index plus one batch (see validate.py).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Protocol

from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.model import Edge, Element
from pboss.inventory.store import GraphStore
from pboss.loaders import jsonio
from pboss.loaders.drift import compute_drift, prune
from pboss.loaders.issues import LoadError, LoadRefused
from pboss.loaders.lines import check_encoding
from pboss.loaders.native import InputFile, discover, is_bundle, node_kinds_in_order, read_records
from pboss.loaders.progress import NoProgress, Progress
from pboss.loaders.records import Record, parse_record
from pboss.loaders.report import LoadReport
from pboss.loaders.scan import is_empty
from pboss.loaders.validate import Validator
from pboss.loaders.writer import BatchWriter

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
    max_issues: int = 1000
    actor: str = "loader"
    reason: str = "load"
    #: Overlap parsing with the store's writes in a second thread. Off by default: with Neo4j on
    #: the same 2-core host it measured slower (GIL hand-offs cost more than the overlap gains).
    threaded: bool = False


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """Records in lists of `size` (the validator checks a chunk with one store lookup)."""
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def _stamp(files: Sequence[InputFile]) -> list[tuple[int, int]]:
    """Size and modification time of each file, to notice a change between the passes."""
    out = []
    for f in files:
        st = f.path.stat()
        out.append((st.st_size, st.st_mtime_ns))
    return out


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
        stamps = _stamp(files)
        total = sum(s for s, _ in stamps)
        started = time.perf_counter()
        store_empty = is_empty(self.store)
        validator = Validator(
            self.store, self.catalog, store_empty=store_empty, max_issues=opts.max_issues
        )
        self.progress.phase("validate", total)
        stopped = False
        for i in range(len(files)):
            validator.begin_file(i, source.kinds_done(i))
            for chunk in _chunks(source.records(i, encoding, self.progress), CHUNK):
                validator.check(chunk)
                self.progress.advance(rows=len(chunk))
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
        if not store_empty:
            t = time.perf_counter()
            report.drift = compute_drift(self.store, validation)
            report.seconds["drift"] = time.perf_counter() - t
        if opts.dry_run:
            return report
        if _stamp(files) != stamps:
            raise LoadError("input files changed during the load; nothing was written")
        t = time.perf_counter()
        self._write(source, encoding, report, total)
        report.seconds["write"] = time.perf_counter() - t
        if opts.prune and report.drift is not None and report.drift.nodes:
            t = time.perf_counter()
            report.pruned, report.prune_kept = prune(self.store, report.drift, opts.actor)
            report.seconds["prune"] = time.perf_counter() - t
        return report

    def _write(self, source: Source, encoding: str, report: LoadReport, total: int) -> None:
        """Pass 2: stream again, skip rejected rows, hold late rows to their file's end, upsert."""
        opts = self.options
        validation = report.validation
        bad, forward = validation.bad, validation.forward
        writer = BatchWriter(
            self.store,
            opts.batch_size,
            actor=opts.actor,
            reason=opts.reason,
            threaded=opts.threaded,
        )
        rejects: IO[bytes] | None = None
        if bad:
            report.rejects_path = opts.rejects or Path("rejects.ndjson")
            rejects = report.rejects_path.open("wb")
        held: list[tuple[tuple[int, int], list[Element], list[Edge], str]] = []
        self.progress.phase("write", total)
        try:
            for i in range(len(source.files)):
                rows = 0
                for rec in source.records(i, encoding, self.progress):
                    rows += 1
                    if rows % CHUNK == 0:
                        self.progress.advance(rows=CHUNK)
                    where = f"{rec.file}:{rec.line}"
                    reason = bad.get(rec.key)
                    if reason is not None:
                        if rejects is not None:
                            self._reject(rejects, rec, reason)
                            report.rejects_written += 1
                        continue
                    p = parse_record(rec, self.catalog)
                    if p.issues:
                        raise LoadError(f"{where}: the row changed since it was validated")
                    late = forward.get(rec.key)
                    if late is not None:
                        held.append((late, p.nodes, p.edges, where))
                        continue
                    writer.add(p.nodes, p.edges, where)
                self.progress.advance(rows=rows % CHUNK)
                # rows that referred forward were accepted at the end of a file in pass 1
                for _, nodes, edges, where in sorted(
                    (h for h in held if h[0][0] == i), key=lambda h: h[0]
                ):
                    writer.add(nodes, edges, where)
                held = [h for h in held if h[0][0] != i]
            report.result = writer.close()
        finally:
            if report.result is None:
                with contextlib.suppress(LoadError):
                    writer.close()
            if rejects is not None:
                rejects.close()
            self.progress.done()

    @staticmethod
    def _reject(out: IO[bytes], rec: Record, reason: str) -> None:
        """Append one rejected row to the rejects file."""
        row = {"file": rec.file, "line": rec.line, "reason": reason, "row": rec.text}
        out.write(jsonio.dumps(row) + b"\n")


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
