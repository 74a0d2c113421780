"""The native interchange format (docs/interchange-format.md): finding its files and reading rows.

A bundle is a directory with `manifest.json`, `nodes/<Kind>.ndjson` and `edges/<TYPE>.ndjson`: one
JSON object per line, flat properties exactly as stored. Files are read in dependency order (places
and parties, then resources parent-first, then edges) so that references point backwards.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pboss.inventory.model import EDGE_RULES, KINDS, key_issue, value_issue
from pboss.loaders import jsonio
from pboss.loaders.issues import LoadError, RowIssue
from pboss.loaders.lines import read_lines
from pboss.loaders.records import Record

FORMAT = "pboss-interchange"
VERSION = 1
MANIFEST = "manifest.json"
NODE_DIR = "nodes"
EDGE_DIR = "edges"
SUFFIX = ".ndjson"

#: Load order of node kinds: what others refer to (sites, owners, parents) comes first.
NODE_ORDER = (
    "Partner", "Region", "Site", "Customer", "Product", "OLT", "PonPort", "Splitter",
    "SplitterPort", "ONT", "NE", "Port", "TrunkSection", "PartnerLink", "Circuit",
    "PartnerAccess", "Service", "Crew",
)  # fmt: skip
_EDGE_KEYS = ("type", "src", "dst", "seq", "slots")
_EDGE_KEY_SET = frozenset(_EDGE_KEYS)
_ID = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')


def node_kinds_in_order() -> list[str]:
    """Every registered kind in load order (kinds other packages add come last, by name)."""
    known = [k for k in NODE_ORDER if k in KINDS]
    return known + sorted(set(KINDS) - set(known))


def edge_types_in_order() -> list[str]:
    """Every edge type in the model's order."""
    return list(EDGE_RULES)


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file to load: its path, how errors name it, what it holds and the rows it should have."""

    path: Path
    display: str
    is_edges: bool
    kind: str | None = None
    edge_type: str | None = None
    expected_rows: int | None = None

    @property
    def order(self) -> tuple[int, int, str]:
        """Sort key: node files in kind order (mixed first), then edge files in type order."""
        if self.is_edges:
            types = edge_types_in_order()
            rank = types.index(self.edge_type) + 1 if self.edge_type in types else 0
            return (1, rank, self.display)
        kinds = node_kinds_in_order()
        rank = kinds.index(self.kind) + 1 if self.kind in kinds else 0
        return (0, rank, self.display)


def _classify(path: Path, display: str, expected: int | None = None) -> InputFile:
    """What a file holds, from its directory and name; LoadError when it cannot tell."""
    stem = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem
    parent = path.parent.name
    if parent == EDGE_DIR or stem in EDGE_RULES or stem.startswith("edges"):
        etype = stem if stem in EDGE_RULES else None
        if parent == EDGE_DIR and etype is None and not stem.startswith("edges"):
            raise LoadError(f"{display}: no edge type is named {stem!r}")
        return InputFile(path, display, True, edge_type=etype, expected_rows=expected)
    if parent == NODE_DIR or stem in KINDS or stem.startswith("nodes"):
        kind = stem if stem in KINDS else None
        if parent == NODE_DIR and kind is None and not stem.startswith("nodes"):
            raise LoadError(f"{display}: no node kind is named {stem!r}")
        return InputFile(path, display, False, kind=kind, expected_rows=expected)
    raise LoadError(
        f"{display}: cannot tell what it holds; name it <Kind>{SUFFIX}, <EDGE_TYPE>{SUFFIX}, "
        f"nodes*{SUFFIX} or edges*{SUFFIX}, or put it in a bundle's nodes/ or edges/"
    )


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The bundle's manifest, or None if it has none; LoadError if it is not ours."""
    path = directory / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoadError(f"{path}: not a valid manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LoadError(f"{path}: not a {FORMAT} manifest")
    if data.get("version") != VERSION:
        raise LoadError(
            f"{path}: format version {data.get('version')!r}; this pboss reads {VERSION}"
        )
    return data


def _bundle_files(directory: Path) -> list[InputFile]:
    """A bundle's files: those its manifest lists, else everything in nodes/ and edges/."""
    manifest = read_manifest(directory)
    out: list[InputFile] = []
    if manifest is not None:
        for entry in manifest.get("files", []):
            path = directory / entry["path"]
            display = str(directory / entry["path"])
            if not path.exists():
                raise LoadError(f"{display}: listed in the manifest but missing")
            out.append(_classify(path, display, entry.get("rows")))
        return out
    for sub in (NODE_DIR, EDGE_DIR):
        for path in sorted((directory / sub).glob(f"*{SUFFIX}")):
            out.append(_classify(path, str(path)))
    if not out:
        raise LoadError(f"{directory}: no {MANIFEST}, {NODE_DIR}/ or {EDGE_DIR}/ files in it")
    return out


def is_bundle(directory: Path) -> bool:
    """True when the directory looks like a bundle (a manifest or nodes/ or edges/ files)."""
    return (directory / MANIFEST).exists() or any(
        (directory / sub).is_dir() for sub in (NODE_DIR, EDGE_DIR)
    )


def discover(paths: Sequence[Path]) -> list[InputFile]:
    """The files to load, from bundle directories and single files, in load order."""
    files: list[InputFile] = []
    for path in paths:
        if path.is_dir():
            files += _bundle_files(path)
        elif path.is_file():
            files.append(_classify(path, str(path)))
        else:
            raise LoadError(f"{path}: no such file or directory")
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f.path.resolve() not in seen:
            seen.add(f.path.resolve())
            unique.append(f)
    return sorted(unique, key=lambda f: f.order)


@functools.cache
def _fields(kind: str) -> frozenset[str]:
    """Field names of a kind (read once: pydantic's `model_fields` is not free per row)."""
    return frozenset(KINDS[kind].model_fields)


def _storable(rec: Record, row: dict[str, Any]) -> bool:
    """True when Neo4j can store every key and value of the row as it is; otherwise each key
    or value it would refuse (a NUL or over-long name, an int beyond 64 bits, a nested object,
    a mixed list) becomes an issue at its column, so no batch is refused half-way through."""
    ok = True
    for key, value in row.items():
        why = key_issue(key)
        if why is None:
            why = value_issue(value)
        if why is not None:
            rec.issues.append(rec.issue(why, key))
            ok = False
    return ok


def _node_input(rec: Record, row: dict[str, Any], file_kind: str | None) -> None:
    """Split a flat node row into model fields and attrs (a reserved key is an issue)."""
    kind = row.get("kind", file_kind)
    if file_kind is not None and kind != file_kind:
        rec.issues.append(rec.issue(f"kind {kind!r} in a {file_kind} file", "kind"))
        return
    if not isinstance(kind, str) or kind not in KINDS:
        known = ", ".join(sorted(KINDS))
        rec.issues.append(rec.issue(f"unknown or missing kind {kind!r} (known: {known})", "kind"))
        return
    if kind == "Crew":
        row = _crew_row(row)
    if not _storable(rec, row):
        rid = row.get("id")
        if isinstance(rid, str) and value_issue(rid) is None:  # rows referring to it depend on it
            rec.nodes.append({"id": rid})
        return
    fields = _fields(kind)
    data: dict[str, Any] = {"kind": kind}
    attrs: dict[str, Any] = {}
    for key, value in row.items():
        if key == "kind":
            continue
        if key in fields and key != "attrs":
            data[key] = value
        elif key == "attrs" or key.startswith("_"):
            reason = "reserved key; attributes are flat top-level keys not starting with '_'"
            rec.issues.append(rec.issue(reason, key))
        else:
            attrs[key] = value
    data["attrs"] = attrs
    rec.nodes.append(data)
    if kind == "Crew":
        _crew_covers(rec, data)


def _crew_row(row: dict[str, Any]) -> dict[str, Any]:
    """A crew row as stored: `members` given as a list of objects is kept as its JSON text (the
    store keeps no nested maps; the model validates each member)."""
    members = row.get("members")
    if isinstance(members, list):
        return {**row, "members": json.dumps(members, ensure_ascii=False)}
    return row


def _crew_covers(rec: Record, data: dict[str, Any]) -> None:
    """A crew covers each of its `areas`: one COVERS edge per area, checked like any edge (the
    area must be a Region or Site of the feed or the store; issues point at `areas`)."""
    areas, cid = data.get("areas"), data.get("id")
    if not isinstance(cid, str) or not isinstance(areas, list):
        return  # the model reports the row
    for area in dict.fromkeys(a for a in areas if isinstance(a, str)):
        rec.edges.append({"type": "COVERS", "src": cid, "dst": area, "attrs": {}})


def _edge_input(rec: Record, row: dict[str, Any], file_type: str | None) -> None:
    """Turn a flat edge row into model input: type, ends, seq, slots and attrs."""
    etype = row.get("type", file_type)
    if file_type is not None and etype != file_type:
        rec.issues.append(rec.issue(f"type {etype!r} in a {file_type} file", "type"))
        return
    if not _storable(rec, row):
        return
    data = {k: row[k] for k in _EDGE_KEYS if k in row}
    data["type"] = etype
    data["attrs"] = {k: v for k, v in row.items() if k not in _EDGE_KEY_SET}
    rec.edges.append(data)


def _salvage_id(rec: Record) -> None:
    """Note the id of an unreadable row (undecodable or cut short; ids come first and are mostly
    ASCII), so rows that refer to it are reported as depending on it, not as dangling."""
    match = _ID.search(rec.text)
    if match:
        with contextlib.suppress(ValueError):  # UnicodeEncodeError included
            rid = json.loads(f'"{match.group(1)}"')
            rid.encode()  # a lone surrogate: no row defines it (the reader refuses it), and the
            rec.nodes.append({"id": rid})  # index on disk could not ask about it


def read_records(
    source: int,
    file: InputFile,
    encoding: str,
    on_bytes: Callable[[int], None] | None = None,
    *,
    start: int = 0,
    end: int | None = None,
    first_line: int = 1,
    count_rows: bool = True,
) -> Iterator[Record]:
    """Yield one record per non-blank line; bad JSON, bad bytes and truncation become issues.

    For a segment of the file (`start`, `end`, `first_line`: see `lines.read_lines`), with
    `count_rows` false, rows are not counted against the manifest: whoever reads the segments
    does that (`parallel.py`).
    """
    rows = 0
    last = 0
    lines = read_lines(
        file.path, encoding, file.display, on_bytes, start=start, end=end, first_line=first_line
    )
    for line in lines:
        last = line.number
        if line.issue is not None:
            rows += 1
            text = line.raw.decode(encoding, errors="replace")
            rec = Record(source, file.display, line.number, text, issues=[line.issue])
            if not file.is_edges:
                _salvage_id(rec)
            yield rec
            continue
        text = line.text or ""
        if not text.strip():
            continue
        rows += 1
        rec = Record(source, file.display, line.number, text)
        try:
            row = jsonio.loads(text)
        except jsonio.JSONDecodeError as exc:
            reason = f"invalid JSON: {exc.msg}"
            if not line.complete:
                reason = f"truncated last line (no newline at the end of the file); {reason}"
            rec.issues.append(RowIssue(file.display, line.number, exc.colno, reason))
            if not file.is_edges:
                _salvage_id(rec)
            yield rec
            continue
        if not isinstance(row, dict):
            rec.issues.append(rec.issue(f"a line must be a JSON object, not {type(row).__name__}"))
        elif file.is_edges:
            _edge_input(rec, row, file.edge_type)
        else:
            _node_input(rec, row, file.kind)
        yield rec
    if count_rows:
        mismatch = rows_mismatch(source, file, rows, last)
        if mismatch is not None:
            yield mismatch


def rows_mismatch(source: int, file: InputFile, rows: int, last: int) -> Record | None:
    """The record reporting that a file has `rows` rows (its last line `last`) where the
    manifest lists another count, or None when they agree (or it lists none)."""
    if file.expected_rows is None or rows == file.expected_rows:
        return None
    reason = f"{rows} row(s) but the manifest lists {file.expected_rows} (truncated or edited?)"
    return Record(
        source, file.display, last + 1, "", issues=[RowIssue(file.display, last + 1, 1, reason)]
    )
