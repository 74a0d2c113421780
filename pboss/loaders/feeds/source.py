"""Partner feeds as a loader source: CSV rows mapped (by a mapping file) to our elements.

Each CSV row becomes one record: a PartnerLink with TERMINATES edges to the NEs at its two sites
(partner links end on NEs: docs/interchange-format.md), or a PartnerAccess pool at one site.
Problems (a missing column, a value the mapping cannot translate, a site that matches nothing)
become issues at the row's line and the column of the partner's field, so unmatched rows are
reported like any invalid row and never guessed.

A row over an element the store holds updates only what the mapping carries (`_merged`): other
fields and attributes keep their stored values, and a status a person set is kept and reported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pboss.inventory.model import KINDS, Element, from_props, value_issue
from pboss.inventory.results import ChangeRecord
from pboss.inventory.store import GraphStore
from pboss.loaders.actors import is_loader
from pboss.loaders.drift import StatusDisagreement
from pboss.loaders.feeds.mapping import STYLE_FIELDS, FeedMapping
from pboss.loaders.feeds.sites import SiteMatcher
from pboss.loaders.issues import LoadError, RowIssue
from pboss.loaders.lines import read_lines
from pboss.loaders.native import InputFile
from pboss.loaders.progress import Progress
from pboss.loaders.records import Record


class _Row:
    """One CSV row with its header, for reading mapped fields and pointing at their columns."""

    def __init__(self, mapping: FeedMapping, header: dict[str, int], cells: list[str]):
        self.mapping = mapping
        self.header = header
        self.cells = cells

    def column(self, field: str) -> int:
        """1-based column of the partner's column that holds `field` (1 if unmapped)."""
        theirs = self.mapping.columns.get(field)
        return self.header[theirs] + 1 if theirs in self.header else 1

    def site_column(self, end: str) -> int:
        """The column a site reference is read from: the code if given, else the address."""
        return self.column(f"{end}site_code" if self.get(f"{end}site_code") else f"{end}address")

    def get(self, field: str) -> str:
        """The raw cell of a mapped field ('' when unmapped)."""
        theirs = self.mapping.columns.get(field)
        if theirs is None or theirs not in self.header:
            return ""
        return self.cells[self.header[theirs]].strip()


class FeedSource:
    """Partner CSV files read through one mapping, against the sites and NEs of the store."""

    def __init__(self, mapping: FeedMapping, paths: Sequence[Path], store: GraphStore):
        for p in paths:
            if not p.is_file():
                raise LoadError(f"{p}: no such file")
        self.mapping = mapping
        self.files = [InputFile(p, str(p), False, kind=mapping.kind) for p in paths]
        self.matcher = SiteMatcher.from_store(store)
        self.store = store
        # the partner's elements of this kind in the store: a row updates only what it carries
        self.stored: dict[str, dict[str, Any]] = {
            p["id"]: p for p in store.scan_nodes(mapping.kind) if p.get("owner") == mapping.partner
        }
        # the partner's links in the store -> the NEs they terminate on (a re-load keeps them)
        self.ends: dict[str, list[str]] = {}
        if mapping.style == "partner_link":
            for src, dst, _ in store.scan_edges("TERMINATES", ordered=False, props=False):
                if src in self.stored:
                    self.ends.setdefault(src, []).append(dst)
        #: rows whose status differs from one a person set (kept; the loader reports them as drift)
        self.status_drift: list[StatusDisagreement] = []
        self._notes: dict[int, list[str]] = {}

    @property
    def warnings(self) -> list[str]:
        """What the last read of each file noticed that is not an error (an empty store, match
        counts, no NE)."""
        first = []
        if not self.matcher.by_code:
            first.append(
                "the store holds no sites, so no row can match one ('no site matches'): load our "
                "network first, or point at the store that has it (a `--store memory` load "
                "starts from an empty store of its own)"
            )
        return first + [w for i in sorted(self._notes) for w in self._notes[i]]

    def default_encoding(self) -> str:
        """The encoding the mapping declares."""
        return self.mapping.encoding

    def kinds_done(self, index: int) -> frozenset[str] | None:
        """Feed rows refer only to the store and to themselves."""
        return None

    # ---- reading ---------------------------------------------------------------------------

    def records(self, index: int, encoding: str, progress: Progress) -> Iterator[Record]:
        """The file's rows as records (the header row is line 1 and is not a record)."""
        f = self.files[index]
        self.matcher.stats.clear()
        notes: list[str] = []
        bad: dict[int, RowIssue] = {}
        state = {"line": 0, "complete": True}

        def text_lines() -> Iterator[str]:
            """Decoded lines for the CSV reader; undecodable ones become blank and noted."""
            for line in read_lines(f.path, encoding, f.display, lambda n: progress.advance(n)):
                state["line"], state["complete"] = line.number, line.complete
                if line.issue is not None:
                    bad[line.number] = line.issue
                    yield "\n"
                else:
                    yield (line.text or "") + "\n"

        reader = csv.reader(text_lines(), delimiter=self.mapping.delimiter)
        header_row = next(reader, None)
        if header_row is None or bad.get(1):
            issue = bad.get(1) or RowIssue(f.display, 1, 1, "empty file: no header row")
            yield Record(index, f.display, 1, "", issues=[issue])
            return
        header = {name.strip(): i for i, name in enumerate(header_row)}
        missing = [c for c in self.mapping.columns.values() if c not in header]
        if missing:
            reason = f"missing column(s) {missing}; the header has {list(header)}"
            yield Record(index, f.display, 1, "", issues=[RowIssue(f.display, 1, 1, reason)])
            return
        previous = 1
        try:
            for cells in reader:
                start, previous = previous + 1, reader.line_num
                if start in bad:
                    yield Record(index, f.display, start, "", issues=[bad[start]])
                    continue
                if not any(c.strip() for c in cells):
                    continue
                text = self.mapping.delimiter.join(cells)
                rec = Record(index, f.display, start, text, columns={"*": 1})
                if len(cells) != len(header):
                    truncated = previous == state["line"] and not state["complete"]
                    what = "truncated last line: " if truncated else ""
                    reason = f"{what}{len(cells)} field(s), the header has {len(header)}"
                    rec.issues.append(RowIssue(f.display, start, len(cells) or 1, reason))
                else:
                    self._map(rec, _Row(self.mapping, header, cells), notes)
                yield rec
        except csv.Error as exc:
            reason = f"malformed CSV: {exc}"
            yield Record(index, f.display, reader.line_num, "", issues=[
                RowIssue(f.display, reader.line_num, 1, reason)])  # fmt: skip
        stats = dict(self.matcher.stats)
        if stats:
            notes.insert(0, f"{f.display}: site references matched " + ", ".join(
                f"{k}: {v}" for k, v in sorted(stats.items())))  # fmt: skip
        self._notes[index] = notes

    # ---- mapping ---------------------------------------------------------------------------

    def _value(self, rec: Record, row: _Row, field: str) -> str | None:
        """A translated field, or None after adding an issue at the field's column."""
        raw = row.get(field)
        if not raw:
            if field in self.mapping.defaults:
                return str(self.mapping.defaults[field])
            return None
        value = self.mapping.translate(field, raw)
        if value is None:
            known = ", ".join(sorted(self.mapping.values.get(field, {})))
            theirs = self.mapping.columns[field]
            reason = f"{theirs} {raw!r} is not in the mapping's [values.{field}] ({known})"
            rec.issues.append(RowIssue(rec.file, rec.line, row.column(field), reason, field))
        return value

    def _site(self, rec: Record, row: _Row, end: str) -> str | None:
        """Our site for one end of a row, or None after adding a located issue."""
        match = self.matcher.match(row.get(f"{end}site_code"), row.get(f"{end}address"))
        if match.site is None:
            col = row.column(f"{end}site_code" if match.by == "code" else f"{end}address")
            what = f"{end[:1].upper()}-end site" if end else "site"
            rec.issues.append(RowIssue(rec.file, rec.line, col, f"{what}: {match.reason}"))
        return match.site

    def _int(self, rec: Record, row: _Row, field: str) -> int | None:
        """A whole number from a cell, or None after adding a located issue."""
        raw = row.get(field)
        try:
            value = int(raw.replace(",", ""))
        except ValueError:
            theirs = self.mapping.columns[field]
            reason = f"{theirs} must be a whole number, got {raw!r}"
            rec.issues.append(RowIssue(rec.file, rec.line, row.column(field), reason, field))
            return None
        why = value_issue(value)  # beyond 64 bits: Neo4j cannot store it, nor will the model
        if why is not None:
            theirs = self.mapping.columns[field]
            rec.issues.append(
                RowIssue(rec.file, rec.line, row.column(field), f"{theirs} {why}", field)
            )
            return None
        return value

    def _map(self, rec: Record, row: _Row, notes: list[str]) -> None:
        """Turn one CSV row into the record's node and edges (or its issues)."""
        m = self.mapping
        rec.columns = {"*": row.column("circuit_code" if m.style == "partner_link" else "total")}
        if m.style == "partner_link":
            self._link(rec, row, notes)
        else:
            self._pool(rec, row)

    def _common(self, rec: Record, row: _Row, names: dict[str, Any]) -> dict[str, Any]:
        """Fields every style shares: id and name from templates, owner, spec, status, defaults."""
        m = self.mapping
        fields: dict[str, Any] = {"partner": m.partner, **names}
        for f in STYLE_FIELDS[m.style][0]:
            fields.setdefault(f, row.get(f))
        model_fields = KINDS[m.kind].model_fields
        node: dict[str, Any] = {"kind": m.kind, "owner": m.partner, "attrs": {}}
        for key, value in m.defaults.items():
            if key in model_fields:
                node[key] = value
            else:
                node["attrs"][key] = value
        node["id"] = m.id.format(**fields)
        if m.label:
            node["name"] = m.label.format(**fields)
        for f in ("spec", "status"):
            value = self._value(rec, row, f) if f in m.columns else None
            if value:
                node[f] = value
        rec.columns.update({"id": row.column("circuit_code"), "spec": row.column("spec"),
                            "status": row.column("status"), "owner": 1})  # fmt: skip
        return node

    def _link(self, rec: Record, row: _Row, notes: list[str]) -> None:
        """A leased-line circuit row as a PartnerLink terminating on the NEs at its ends."""
        code = row.get("circuit_code")
        if not code:
            rec.issues.append(RowIssue(rec.file, rec.line, row.column("circuit_code"),
                                       "empty circuit code", "circuit_code"))  # fmt: skip
        a, z = self._site(rec, row, "a_"), self._site(rec, row, "z_")
        if rec.issues or a is None or z is None:
            return
        node = self._common(rec, row, {"site": a, "a_site": a, "z_site": z})
        if rec.issues:
            return
        node.update(site=a, partner_circuit_code=code)
        node["attrs"]["z_site"] = z
        if row.get("contract_id"):
            node["contract_id"] = row.get("contract_id")
        rec.columns.update({"site": row.site_column("a_"), "dst": row.site_column("z_")})
        rec.nodes.append(self._merged(rec, node))
        for end, site in (("A", a), ("Z", z)):
            ne = self.matcher.ne_at(site, self.ends.get(node["id"], ()))
            if ne is None:
                notes.append(f"{rec.file}:{rec.line}: {end}-end site {site!r} has no NE; "
                             f"{node['id']} is loaded without that termination")  # fmt: skip
            else:
                rec.edges.append({"type": "TERMINATES", "src": node["id"], "dst": ne})

    def _pool(self, rec: Record, row: _Row) -> None:
        """A coverage row as a PartnerAccess pool at the matched site."""
        site = self._site(rec, row, "")
        total, free = self._int(rec, row, "total"), self._int(rec, row, "free")
        technology = self._value(rec, row, "technology") if "technology" in self.mapping.columns \
            else self.mapping.defaults.get("technology")  # fmt: skip
        if rec.issues or site is None or total is None or free is None:
            return
        if free > total:
            reason = f"free capacity {free} exceeds total {total}"
            rec.issues.append(RowIssue(rec.file, rec.line, row.column("free"), reason, "free"))
            return
        names = {"site": site, "technology": technology or ""}
        node = self._common(rec, row, names)
        if rec.issues:
            return
        node.update(site=site, total=total, used=total - free)  # `reserved` is ours: kept
        if technology:
            node["technology"] = technology
        if row.get("building_name") and "name" not in node:
            node["name"] = row.get("building_name")
        rec.columns.update(
            {"site": row.site_column(""), "total": row.column("total"), "used": row.column("free")}
        )
        rec.nodes.append(self._merged(rec, node))

    # ---- what a feed owns ------------------------------------------------------------------

    def _merged(self, rec: Record, node: dict[str, Any]) -> dict[str, Any]:
        """The row's node over the stored element: the feed owns only the fields its mapping
        carries, so the others (and attributes it does not carry) keep their stored values, and a
        status a person set stays, the disagreement noted for the drift report."""
        props = self.stored.get(node["id"])
        if props is None or props.get("kind") != node["kind"]:
            return node  # new (or another kind, which validation refuses at this row)
        old = from_props(props)
        theirs = node.get("status")
        if theirs is not None and theirs != old.status:
            by = self._set_by_person(old)
            if by is not None:
                where = f"{rec.file}:{rec.line}"
                self.status_drift.append(
                    StatusDisagreement(old.id, str(old.status), theirs, by.actor, by.at, where)
                )
                node["status"] = old.status
        merged = old.model_dump()
        attrs = {**merged.pop("attrs"), **node.get("attrs", {})}
        merged.update(node)
        merged["attrs"] = attrs
        return merged

    def _set_by_person(self, old: Element) -> ChangeRecord | None:
        """The history record of the element's current status when a person (not a load) set it;
        None when a load did or no change is recorded (its status is the one it was made with)."""
        # history holds every change (creation, fields, edges): look at status changes only
        for change in self.store.history(old.id, limit=1000):
            if change.change == "created":
                break
            if change.to_status == old.status and change.from_status != change.to_status:
                return None if is_loader(change.actor) else change
        return None
