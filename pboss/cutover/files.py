"""Cutover plans from files: the port mappings field teams prepare, as CSV or NDJSON.

One file describes one re-home: a row per rider (an ONT, or a cascaded splitter) with the output
it leaves (`from`, optional: checked when given) and the output it moves to (`to`). CSV has a
header naming those columns (any order; `rider` and `to` required); NDJSON has one object per
line with those keys. Every row is checked against the live graph like `pboss load` checks its
rows: each problem at `file:line:column`, and nothing is planned while any row is wrong. The
rows then become a plan through the same planner as the API (`plans.rehome_steps`), so what the
graph refuses as a whole (a split budget, an unhealthy chain) is refused the same way.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from pboss.cutover.errors import PlanInvalid
from pboss.cutover.plans import Draft, rehome_steps
from pboss.inventory.store import GraphStore
from pboss.loaders.issues import LoadRefused, RowIssue
from pboss.loaders.lines import read_lines

COLUMNS = ("rider", "from", "to")
REQUIRED = ("rider", "to")
#: Most rows one plan file may have.
MAX_ROWS = 2000


@dataclass(frozen=True, slots=True)
class MoveRow:
    """One row: where it is in the file, and what it asks."""

    line: int
    columns: dict[str, int]
    rider: str
    from_port: str | None
    to_port: str


def _csv_rows(path: Path, shown: str, encoding: str) -> tuple[list[MoveRow], list[RowIssue]]:
    rows: list[MoveRow] = []
    issues: list[RowIssue] = []
    header: list[str] | None = None
    for line in read_lines(path, encoding, shown):
        if line.issue is not None:
            issues.append(line.issue)
            continue
        text = line.text or ""
        if not text.strip():
            continue
        cells = next(csv.reader(io.StringIO(text)))
        starts = _starts(text, len(cells))
        if header is None:
            header = [c.strip().lower() for c in cells]
            for name in REQUIRED:
                if name not in header:
                    issues.append(RowIssue(shown, line.number, 1, f"missing column {name!r}"))
            for i, name in enumerate(header):
                if name not in COLUMNS:
                    reason = f"unknown column {name!r}; expected {', '.join(COLUMNS)}"
                    issues.append(RowIssue(shown, line.number, starts[i], reason))
            if issues:
                return rows, issues
            continue
        if len(cells) != len(header):
            reason = f"{len(cells)} cells, the header has {len(header)}"
            issues.append(RowIssue(shown, line.number, 1, reason))
            continue
        values = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        columns = {h: starts[i] for i, h in enumerate(header)}
        rows.append(_row(line.number, columns, values, shown, issues))
    if header is None:
        issues.append(RowIssue(shown, 1, 1, "empty file: expected a header rider,from,to"))
    return rows, issues


def _starts(text: str, n: int) -> list[int]:
    """1-based start column of each of the n cells of a CSV line (quotes skipped over)."""
    starts, quoted, col = [1], False, 1
    for ch in text:
        col += 1
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            starts.append(col)
    return (starts + [1] * n)[:n]


def _ndjson_rows(path: Path, shown: str, encoding: str) -> tuple[list[MoveRow], list[RowIssue]]:
    rows: list[MoveRow] = []
    issues: list[RowIssue] = []
    for line in read_lines(path, encoding, shown):
        if line.issue is not None:
            issues.append(line.issue)
            continue
        text = line.text or ""
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            issues.append(RowIssue(shown, line.number, exc.colno, f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            issues.append(RowIssue(shown, line.number, 1, "expected an object"))
            continue
        columns = {k: max(text.find(f'"{k}"'), 0) + 1 for k in obj}
        for key in obj:
            if key not in COLUMNS:
                reason = f"unknown key {key!r}; expected {', '.join(COLUMNS)}"
                issues.append(RowIssue(shown, line.number, columns[key], reason))
        bad = [
            k for k, v in obj.items() if k in COLUMNS and v is not None and not isinstance(v, str)
        ]
        for key in bad:
            issues.append(RowIssue(shown, line.number, columns[key], "must be a string", key))
        if bad:
            continue
        values = {k: (obj.get(k) or "").strip() for k in COLUMNS}
        rows.append(_row(line.number, columns, values, shown, issues))
    return rows, issues


def _row(
    number: int, columns: dict[str, int], values: dict[str, str], shown: str, issues: list[RowIssue]
) -> MoveRow:
    for name in REQUIRED:
        if not values.get(name):
            issues.append(RowIssue(shown, number, columns.get(name, 1), "required", name))
    return MoveRow(
        line=number,
        columns=columns,
        rider=values.get("rider", ""),
        from_port=values.get("from") or None,
        to_port=values.get("to", ""),
    )


def read_moves(path: Path, *, encoding: str = "utf-8") -> list[MoveRow]:
    """The rows of a plan file (CSV, or NDJSON for .ndjson/.jsonl); LoadRefused lists every
    malformed row at file:line:column."""
    shown = str(path)
    ndjson = path.suffix.lower() in (".ndjson", ".jsonl")
    rows, issues = (_ndjson_rows if ndjson else _csv_rows)(path, shown, encoding)
    if not issues and not rows:
        issues.append(RowIssue(shown, 1, 1, "no moves in the file"))
    if len(rows) > MAX_ROWS:
        issues.append(RowIssue(shown, rows[MAX_ROWS].line, 1, f"more than {MAX_ROWS} moves"))
    if issues:
        raise LoadRefused(issues, len(issues))
    return rows


def draft_from_rows(store: GraphStore, rows: list[MoveRow], shown: str) -> Draft:
    """Check each row against the live graph (file:line:column for every problem), then plan
    the re-home they describe. LoadRefused when a row is wrong; PlanInvalid when the move as a
    whole does not fit."""
    issues: list[RowIssue] = []
    ids = sorted({r.rider for r in rows} | {r.to_port for r in rows})
    found = store.get_many(ids)
    feeds = store.neighbours_many([r.rider for r in rows], "out", ["FED_BY"])
    parents = store.neighbours_many(sorted({r.to_port for r in rows}), "out", ["PART_OF"])
    seen_rider: dict[str, int] = {}
    seen_port: dict[str, int] = {}
    sources: dict[str, int] = {}
    targets: dict[str, int] = {}
    for r in rows:
        col = r.columns
        at = feeds.get(r.rider, [])
        if found.get(r.rider) is None:
            issues.append(RowIssue(shown, r.line, col["rider"], f"no element {r.rider!r}", "rider"))
        elif not at:
            issues.append(
                RowIssue(shown, r.line, col["rider"], f"{r.rider} is fed by nothing", "rider")
            )
        else:
            port = at[0][1]
            if r.from_port and r.from_port != port.id:
                reason = f"{r.rider} is fed by {port.id}, not {r.from_port}"
                issues.append(RowIssue(shown, r.line, col.get("from", 1), reason, "from"))
            spl = next((el.id for _, el in store.neighbours(port.id, "out", ["PART_OF"])), None)
            if spl:
                sources.setdefault(spl, r.line)
        if r.rider in seen_rider:
            reason = f"{r.rider} already moves on line {seen_rider[r.rider]}"
            issues.append(RowIssue(shown, r.line, col["rider"], reason, "rider"))
        seen_rider.setdefault(r.rider, r.line)
        target = found.get(r.to_port)
        if target is None or target.kind != "SplitterPort":
            reason = f"no splitter output {r.to_port!r}"
            issues.append(RowIssue(shown, r.line, col["to"], reason, "to"))
        else:
            spl = next((el.id for _, el in parents.get(r.to_port, [])), None)
            if spl:
                targets.setdefault(spl, r.line)
        if r.to_port in seen_port:
            reason = f"{r.to_port} is already the target on line {seen_port[r.to_port]}"
            issues.append(RowIssue(shown, r.line, col["to"], reason, "to"))
        seen_port.setdefault(r.to_port, r.line)
    for what, spls in (("riders come from", sources), ("targets are on", targets)):
        if len(spls) > 1:
            (first, _), (second, line) = sorted(spls.items(), key=lambda kv: kv[1])[:2]
            reason = (
                f"one plan moves one splitter's riders to one splitter; {what} {first} and {second}"
            )
            issues.append(RowIssue(shown, line, 1, reason))
    if issues:
        raise LoadRefused(issues, len(issues))
    mapping = {r.rider: r.to_port for r in rows}
    try:
        return rehome_steps(store, next(iter(sources)), next(iter(targets)), mapping)
    except PlanInvalid as exc:
        by_name = {r.rider: r for r in rows} | {r.to_port: r for r in rows}
        located = []
        for reason in exc.reasons:
            row = next((by_name[w] for w in reason.split() if w in by_name), None)
            located.append(RowIssue(shown, row.line if row else 1, 1, reason))
        raise LoadRefused(located, len(located)) from None
