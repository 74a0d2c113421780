"""Pass 1 over several processes, for first loads by the bulk importer (`initial.py`).

Most of pass 1 does not depend on earlier rows: reading and decoding lines, JSON, the model's and
the catalog's checks, the references a row makes (`validate.parse_chunk`). Each file is cut at
line boundaries into segments of about `SEGMENT_BYTES`; worker processes (forked, so they have the
kinds and the catalog this process registered) read and parse segments, and this process takes
their results **in input order** and runs the checks that do depend on earlier rows (ids defined
once, references, edge rules, slots, ports; `Validator.check_parsed`) and the sink, exactly as the
serial pass does. Issues therefore come with the same file:line:column, in the same order, and
with the same limit (`max_issues` stops the pass at the same chunk); nothing is written but what
the serial pass would write, and a refused load writes nothing either way.

Memory does not grow with the input: at most `2 x workers + 1` segments are parsed and not yet
checked, and workers send rows back stripped of what the checks no longer read (raw input
mappings); parsed rows are big, though (on `medium`, 519 MB peak against the serial pass's 242).

Measured (bench/README.md, "Growth"): it does not pay on this design's terms. Taking a parsed
row back from a worker (unpickling its record, facts and properties, and the garbage collector's
passes over them) costs this process about what reading and parsing it did, so the process that
checks and writes, the one every row goes through, is no faster, and the pass needs twice the
CPU and memory. It is therefore not the default (`workers=1`); it stays for the record and for
measuring, with tests that hold it to the serial pass's issues, order and files.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from pboss.inventory.catalog import Catalog
from pboss.loaders import loader
from pboss.loaders.issues import LoadError
from pboss.loaders.native import InputFile, read_records, rows_mismatch
from pboss.loaders.progress import Progress
from pboss.loaders.records import Parsed, Record
from pboss.loaders.validate import Chunk, Ref, Validator, parse_chunk

#: Bytes of input per task: large enough that sending a task costs little, small enough that the
#: segments in flight stay a few tens of MB.
SEGMENT_BYTES = 2 << 20
_SCAN = 4 << 20


@dataclass(frozen=True, slots=True)
class Segment:
    """Lines of one file: from byte `start` (line `first_line`) to byte `end` (None: the end)."""

    source: int
    start: int
    end: int | None
    first_line: int
    #: the file's last segment: its lines (blank ones included) and the file's line count
    last: bool
    lines_in_file: int


def split(source: int, path: Path, segment_bytes: int | None = None) -> list[Segment]:
    """Cut a file into segments of about `segment_bytes` (None: `SEGMENT_BYTES`) at line ends
    (one scan of the bytes, counting lines so each segment knows its first line's number)."""
    segment_bytes = segment_bytes or SEGMENT_BYTES
    cuts: list[tuple[int, int]] = []  # (byte, number of the line starting there)
    pos = newlines = 0
    target = segment_bytes
    tail = b""
    with path.open("rb") as fh:
        while block := fh.read(_SCAN):
            while True:
                off = max(0, target - pos)
                if off >= len(block):
                    break
                nl = block.find(b"\n", off)
                if nl < 0:
                    break
                cuts.append((pos + nl + 1, newlines + block.count(b"\n", 0, nl + 1) + 1))
                target = pos + nl + 1 + segment_bytes
            newlines += block.count(b"\n")
            pos += len(block)
            tail = block[-1:]
    lines = newlines + (1 if pos and tail != b"\n" else 0)
    cuts = [(at, line) for at, line in cuts if at < pos]
    starts = [(0, 1), *cuts]
    out = []
    for k, (start, line) in enumerate(starts):
        last = k == len(starts) - 1
        end = None if last else starts[k + 1][0]
        out.append(Segment(source, start, end, line, last, lines))
    return out


# ---- the workers ---------------------------------------------------------------------------------

_catalog: Catalog | None = None


def _init_worker(catalog: Catalog) -> None:
    """Keep the catalog for the worker's tasks (inherited through fork, not pickled)."""
    global _catalog
    _catalog = catalog


def _parse_segment(file: InputFile, encoding: str, seg: Segment) -> Chunk:
    """Read and parse one segment in a worker; its rows stripped of what checks no longer read."""
    assert _catalog is not None
    records = list(
        read_records(
            seg.source,
            file,
            encoding,
            start=seg.start,
            end=seg.end,
            first_line=seg.first_line,
            count_rows=False,
        )
    )
    chunk = parse_chunk(records, _catalog)
    for rec in records:
        # `Validator._reject` reads only the ids a row meant to define; the parsed facts hold
        # the rest
        rec.nodes = [{"id": raw["id"]} for raw in rec.nodes if isinstance(raw.get("id"), str)]
        rec.edges = []
    return chunk


# ---- this process --------------------------------------------------------------------------


class _Rows:
    """Parsed rows of the current file waiting for their checks, cut into the serial pass's
    chunks (`loader.CHUNK` rows from the file's start), so the checks (and the stop once there
    are too many issues) fall exactly where they fall in the serial pass."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.parsed: list[Parsed] = []
        self.refs: list[list[Ref]] = []

    def add(self, chunk: Chunk) -> None:
        """Queue a segment's rows."""
        self.records += chunk.records
        self.parsed += chunk.parsed
        self.refs += chunk.refs

    def take(self, last: bool) -> Iterator[Chunk]:
        """Whole chunks, and with `last` (the file ends) the rest too."""
        size = loader.CHUNK
        at = 0
        while len(self.records) - at >= size or (last and at < len(self.records)):
            end = at + size
            yield Chunk(self.records[at:end], self.parsed[at:end], self.refs[at:end])
            at = end
        del self.records[:at], self.parsed[:at], self.refs[:at]


def validate_in_parallel(
    validator: Validator,
    files: list[InputFile],
    kinds_done: list[frozenset[str] | None],
    encoding: str,
    progress: Progress,
    *,
    workers: int,
    segment_bytes: int | None = None,
) -> None:
    """Run pass 1 over `files` with `workers` processes parsing and this one checking, in order
    (see the module docstring); the caller then calls `validator.finish()`."""
    plan = iter([seg for i, f in enumerate(files) for seg in split(i, f.path, segment_bytes)])
    window = 2 * workers + 1
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(validator.catalog,),
    )
    pending: deque[tuple[Segment, Future[Chunk]]] = deque()

    def submit() -> None:
        seg = next(plan, None)
        if seg is not None:
            pending.append((seg, pool.submit(_parse_segment, files[seg.source], encoding, seg)))

    try:
        for _ in range(window):
            submit()
        current: int | None = None
        rows = 0
        queued = _Rows()
        while pending:
            seg, future = pending.popleft()
            submit()
            if seg.source != current:
                current, rows = seg.source, 0
                validator.begin_file(current, kinds_done[current])
            try:
                chunk = future.result()
            except BrokenProcessPool as exc:
                why = f"a pass 1 worker process died ({exc}); nothing was written"
                raise LoadError(why) from exc
            rows += len(chunk.records)
            queued.add(chunk)
            if seg.last:  # the serial pass's last record of a file: its count against the manifest
                mismatch = rows_mismatch(seg.source, files[seg.source], rows, seg.lines_in_file)
                if mismatch is not None:
                    queued.add(parse_chunk([mismatch], validator.catalog))
            end = seg.end if seg.end is not None else files[seg.source].path.stat().st_size
            progress.advance(end - seg.start)
            stop = False
            for part in queued.take(seg.last):
                validator.prefetch(part)
                validator.check_parsed(part)
                progress.advance(rows=len(part.records))
                if validator.too_many:
                    stop = True
                    break
            if seg.last or stop:
                validator.end_file()
                current = None
            if stop:
                break
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
