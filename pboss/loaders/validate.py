"""Pass 1 of a load: validate every record before anything is written, so a load is atomic.

It repeats, over the whole stream, every check `plan_batch` and the stores make per batch: the
model and the catalog, one kind per id, `site` and `owner` references, status transitions against
the store, edge endpoints and rules, splitter stages, VC-12 slots in range and held once. A feed
that passes can then be written in many batches and no batch will be refused.

Memory: one tag per feed id (see `index.py`) and one hash pair per single-upstream edge, both in
`SpillMap`s that keep the newest entries in memory and the rest on disk (`spill.py`), so they do
not grow with the feed; one 64-bit digest per feed edge (for the drift report; not kept when the
store starts empty), the slot map of the sections the feed routes over, the ends of every link
(two ids per trunk section or partner link; links are few), and the keys of rejected
rows. Row contents are never kept, except for the rare rows that refer forward to an id defined
later in their file.

Size: every check of pass 1 in one pass over the stream; splitting it would split that pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from pboss.inventory.catalog import Catalog
from pboss.inventory.errors import NotFound
from pboss.inventory.lifecycle import allowed
from pboss.inventory.model import LINK_ENDS, SELF, SINGLE_UPSTREAM, Edge, Element, edge_rule_issue
from pboss.inventory.rows import NodeRow
from pboss.inventory.store import GraphStore
from pboss.loaders.index import SectionSlots, aux_of, edge_digest, kind_of, tag_of
from pboss.loaders.issues import RowIssue
from pboss.loaders.ports import PortUsers, takes_port
from pboss.loaders.records import EdgeFacts, Key, NodeFacts, Parsed, Record, parse_record
from pboss.loaders.spill import SpillMap
from pboss.loaders.spool import PlainEdge, RowSink

_LOOKUP_CHUNK = 2000
_SLOT_HOLDERS = ["ROUTED_OVER", "HOLDS"]


#: One reference of a record: (the field holding it, the id, the kind it must be or None).
#: A plain tuple: a million rows make a couple of million of them.
Ref = tuple[str, str, str | None]
_Ref = Ref


@dataclass
class _Deferred:
    """A record that refers to an id not seen yet, waiting for the end of its file."""

    record: Record
    parsed: Parsed
    refs: list[_Ref]


class Chunk(NamedTuple):
    """Records parsed and their references, between `Validator.parse` and `check_parsed`."""

    records: Sequence[Record]
    parsed: list[Parsed]
    refs: list[list[_Ref]]


@dataclass
class _Outcome:
    """What checking a record's references found: its own issues, rejected rows it depends on,
    and whether it waits for rows further on."""

    issues: list[RowIssue] = field(default_factory=list)
    because: list[RowIssue] = field(default_factory=list)
    waiting: bool = False


@dataclass
class Validation:
    """What pass 1 found: bad and late rows, the feed's ids and edges, counts and issues."""

    bad: dict[Key, str] = field(default_factory=dict)
    forward: dict[Key, tuple[int, int]] = field(default_factory=dict)
    issues: list[RowIssue] = field(default_factory=list)
    issue_count: int = 0
    dependent_rows: int = 0
    #: id -> tag of every accepted feed node (partly on disk: `get`, `in`, `present`)
    feed: SpillMap[str, str] = field(default_factory=lambda: SpillMap("TEXT", "TEXT"))
    rejected: dict[str, Key] = field(default_factory=dict)
    scope: set[tuple[str, str]] = field(default_factory=set)
    edge_types: set[str] = field(default_factory=set)
    #: 64-bit digests of the feed's edges (-> 1), for the drift report; empty when the store was
    edge_digests: SpillMap[int, int] = field(default_factory=lambda: SpillMap("INTEGER", "INTEGER"))
    rows: int = 0
    valid_rows: int = 0
    nodes_by_kind: Counter[str] = field(default_factory=Counter)
    edges_by_type: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """True when every row is valid."""
        return not self.bad and self.issue_count == 0


def parse_chunk(records: Sequence[Record], catalog: Catalog) -> Chunk:
    """The part of pass 1 no earlier row affects: the model's and the catalog's checks and the
    references each row makes (`Validator.parse`; parallel pass 1 runs it in other processes)."""
    parsed = [parse_record(r, catalog) for r in records]
    return Chunk(records, parsed, [Validator._refs(p) for p in parsed])


def _digest(element_id: str) -> int:
    """An id's hash as the upstream map keeps it: never 0, so look-ups can chain with `or`."""
    return hash(element_id) or 1


class Validator:
    """Checks records chunk by chunk against the model, catalog, feed so far and store."""

    def __init__(
        self,
        store: GraphStore,
        catalog: Catalog,
        *,
        store_empty: bool,
        max_issues: int = 1000,
        spool: RowSink | None = None,
        on_reject: Callable[[Record, str], None] | None = None,
        spill_at: int | None = None,
    ):
        self.store = store
        self.catalog = catalog
        self.store_empty = store_empty
        self.max_issues = max_issues
        self.spool = spool
        self.on_reject = on_reject
        self.result = Validation(
            feed=SpillMap("TEXT", "TEXT", spill_at=spill_at),
            edge_digests=SpillMap("INTEGER", "INTEGER", spill_at=spill_at),
        )
        # feed ids the store already holds (-> 1): their rows go through `upsert`, others in bulk
        self._stored: SpillMap[str, int] = SpillMap("TEXT", "INTEGER", spill_at=spill_at)
        # single-upstream edges of the feed and the store: hash((type, src)) -> hash(dst)
        self._upstreams: SpillMap[int, int] = SpillMap("INTEGER", "INTEGER", spill_at=spill_at)
        self._upstream_types_read: set[str] = set()
        # link id -> the ends (TERMINATES targets) the store and the feed so far give it
        self._link_ends: dict[str, set[str]] | None = None
        # ids outside the feed looked up in the store -> their tag, or "" when it lacks them
        self._store_tags: SpillMap[str, str] = SpillMap("TEXT", "TEXT", spill_at=spill_at)
        self._sections: dict[str, SectionSlots] = {}
        # who uses each port: a second user of an exclusive one is refused (ports.py)
        self._ports = PortUsers(store, store_empty=store_empty, spill_at=spill_at)
        self._deferred: list[_Deferred] = []
        # ids the waiting rows define -> the row defining each (not in `feed` until accepted)
        self._deferred_ids: dict[str, Key] = {}
        self._kinds_done: frozenset[str] | None = None
        self._file = 0
        self._late = 0

    # ---- the loader drives these ---------------------------------------------------------------

    def begin_file(self, source: int, kinds_done: frozenset[str] | None) -> None:
        """Start a file; `kinds_done` are kinds no later row can define (None: all of them)."""
        self._file = source
        self._kinds_done = kinds_done

    def end_file(self) -> None:
        """Accept deferred rows whose forward references the file resolved."""
        self._prefetch([d.parsed for d in self._deferred], [d.refs for d in self._deferred])
        self._wait()
        progress = True
        while progress and self._deferred:
            progress = False
            waiting = []
            for d in self._deferred:
                out = self._check_refs(d.record, d.refs, d.parsed)
                if out.issues or out.because:
                    self._reject(d.record, out.issues, out.because)
                    progress = True
                elif out.waiting:
                    waiting.append(d)
                else:
                    self._accept(d.record, d.parsed, late=True)
                    progress = True
            self._deferred = waiting
            self._deferred_ids = {n.id: d.record.key for d in waiting for n in d.parsed.nodes}
        self._settle()

    def finish(self) -> Validation:
        """Reject rows whose references never resolved; the result of the whole pass."""
        self._kinds_done = None
        self.end_file()
        self._prefetch([d.parsed for d in self._deferred], [d.refs for d in self._deferred])
        self._wait()
        for d in self._deferred:
            out = self._check_refs(d.record, d.refs, d.parsed, final=True)
            self._reject(d.record, out.issues, out.because)
        self._deferred = []
        return self.result

    @property
    def too_many(self) -> bool:
        """True once more issues were found than are worth listing."""
        return self.result.issue_count > self.max_issues

    def close(self) -> None:
        """Drop the indexes and their files on disk (the result's `feed` and `edge_digests` are
        empty afterwards)."""
        for index in self._indexes():
            index.close()

    def _indexes(self) -> list[SpillMap]:  # type: ignore[type-arg]
        """Every index that grows with the feed."""
        res = self.result
        return [
            res.feed,
            res.edge_digests,
            self._stored,
            self._upstreams,
            self._store_tags,
            self._ports.users,
        ]

    def check(self, records: Sequence[Record]) -> None:
        """Validate a chunk of records (kept in order: a row may refer to rows before it)."""
        chunk = self.parse(records)
        self.prefetch(chunk)
        self.check_parsed(chunk)

    def parse(self, records: Sequence[Record]) -> Chunk:
        """Step 1 of `check`: the model and catalog, and the references rows make (nothing here
        depends on earlier chunks, so the next chunk can be parsed while this one's look-ups
        run on disk)."""
        return parse_chunk(records, self.catalog)

    def prefetch(self, chunk: Chunk) -> None:
        """Step 2 of `check`: start reading the index entries the chunk will look up (after
        every earlier chunk was checked)."""
        self._prefetch(chunk.parsed, chunk.refs)

    def check_parsed(self, chunk: Chunk) -> None:
        """Step 3 of `check`: check the chunk's rows in order against the feed so far and the
        store, once its look-ups are in."""
        records, parsed, refs = chunk
        self._wait()
        existing = self._lookup(parsed)
        self._stored.recent.update(dict.fromkeys(existing, 1))
        for rec, p, rec_refs in zip(records, parsed, refs, strict=True):
            self.result.rows += 1
            if p.issues:
                self._reject(rec, p.issues)
                continue
            issues = self._check_nodes(rec, p.nodes, existing)
            out = self._check_refs(rec, rec_refs, p)
            issues += out.issues
            if issues or out.because:
                self._reject(rec, issues, out.because)
            elif out.waiting:
                self._deferred.append(_Deferred(rec, p, rec_refs))
                self._deferred_ids.update((n.id, rec.key) for n in p.nodes)
            else:
                self._accept(rec, p)
        self._settle()

    # ---- the indexes on disk -------------------------------------------------------------------

    def _prefetch(self, parsed: Sequence[Parsed], refs: Sequence[list[_Ref]]) -> None:
        """Read from disk the index entries these rows will look up (nothing until the indexes
        outgrow memory), after the store's single upstreams of their edge types (the window must
        see those too)."""
        if not self.store_empty:  # an empty store has no upstreams to read
            for p in parsed:
                for e in p.edges:
                    if e.type in SINGLE_UPSTREAM and e.type not in self._upstream_types_read:
                        self._read_store_upstreams(e.type)
        upstreams = self._upstreams
        by_id = [m for m in (self.result.feed, self._stored, self._store_tags) if m.spilled]
        if by_id:  # node ids and what rows refer to: all these three are asked about
            ids = {n.id for p in parsed for n in p.nodes}
            ids.update([target for rec_refs in refs for _, target, _ in rec_refs])
            for index in by_id:
                index.prefetch(ids)
        self._ports.prefetch(e for p in parsed for e in p.edges)
        if upstreams.spilled:
            upstreams.prefetch(
                hash((e.type, e.src)) for p in parsed for e in p.edges if e.type in SINGLE_UPSTREAM
            )

    def _wait(self) -> None:
        """Have every index's prefetched entries in memory."""
        for index in self._indexes():
            index.wait()

    def _settle(self) -> None:
        """Let the indexes move their older entries to disk (between chunks only)."""
        for index in self._indexes():
            index.settle()

    # ---- checks --------------------------------------------------------------------------------

    def _lookup(self, parsed: Sequence[Parsed]) -> dict[str, Element]:
        """Fetch from the store the feed's nodes (prior versions) and unknown referenced ids."""
        if self.store_empty:
            return {}
        wanted: set[str] = set()
        node_ids: set[str] = set()
        for p in parsed:
            for n in p.nodes:
                node_ids.add(n.id)
                wanted.update(r for r in (n.site, n.owner) if r and r != SELF)
            for e in p.edges:
                wanted.update((e.src, e.dst))
        feed, store_tags = self.result.feed, self._store_tags
        wanted = {i for i in wanted if i not in feed and i not in store_tags} - node_ids
        ids = sorted(wanted | node_ids)
        found: dict[str, Element] = {}
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            found.update(self.store.get_many(ids[start : start + _LOOKUP_CHUNK]))
        for i in wanted:
            store_tags.recent[i] = tag_of(found[i]) if i in found else ""
        return {i: found[i] for i in node_ids if i in found}

    def _check_nodes(
        self, rec: Record, nodes: list[NodeFacts], existing: dict[str, Element]
    ) -> list[RowIssue]:
        """Issues of the record's nodes against earlier rows (one kind per id) and the store."""
        issues = []
        feed = self.result.feed
        recent, older, window = feed.recent, feed.older, feed.window  # `check` prefetched them
        for n in nodes:
            prior = recent.get(n.id) or older.get(n.id) or window.get(n.id)
            if prior is not None or n.id in self.result.rejected or n.id in self._deferred_ids:
                # a row waiting for a forward reference defines it too (it is accepted later)
                what = f"a {kind_of(prior)}" if prior else "a rejected row"
                if n.id in self._deferred_ids:
                    what = "a row waiting for a later id"
                issues.append(rec.issue(f"id {n.id!r} already defined by {what} earlier", "id"))
                continue
            old = existing.get(n.id)
            if old is None:
                continue
            if old.kind != n.kind:
                issues.append(rec.issue(f"id {n.id!r} is a {old.kind} in the store", "id"))
            elif not allowed(old.status, n.status):
                reason = f"status cannot change from {old.status!r} to {n.status!r} (store)"
                issues.append(rec.issue(reason, "status"))
        return issues

    @staticmethod
    def _refs(p: Parsed) -> list[_Ref]:
        """The references a record makes: sites, owners, edge ends."""
        refs: list[_Ref] = []
        for n in p.nodes:
            if n.site is not None:
                refs.append(("site", n.site, "Site"))
            if n.owner != SELF:
                refs.append(("owner", n.owner, "Partner"))
        for e in p.edges:
            refs.append(("src", e.src, None))
            refs.append(("areas" if e.type == "COVERS" else "dst", e.dst, None))
        return refs

    def _check_refs(
        self, rec: Record, refs: Iterable[_Ref], p: Parsed, final: bool = False
    ) -> _Outcome:
        """Issues of the record's references and edges, and whether some wait for later rows."""
        own = {n.id: n.tag for n in p.nodes}
        # what is known of an id: the row's own nodes, the feed, the store; the indexes' dicts in
        # order, read inline (the hot loop; `check` prefetched the refs)
        feed, store = self.result.feed, self._store_tags
        recent, older, window = feed.recent, feed.older, feed.window
        s_recent, s_older, s_window = store.recent, store.older, store.window
        out = _Outcome()
        found = own.copy()  # every tag resolved here, for the edge checks below
        for ref in refs:
            field_name, target, expected = ref
            tag = (
                own.get(target)
                or recent.get(target)
                or older.get(target)
                or window.get(target)
                or s_recent.get(target)
                or s_older.get(target)
                or s_window.get(target)
            )
            if tag:
                found[target] = tag
                if expected and kind_of(tag) != expected:
                    reason = self._wrong_kind(ref, kind_of(tag))
                    out.issues.append(rec.issue(reason, field_name))
                continue
            bad_at = self.result.rejected.get(target)
            if bad_at is not None:
                reason = f"{field_name} {target!r} is in a rejected row (line {bad_at[1]})"
                out.because.append(rec.issue(reason, field_name))
            elif not final and (target in self._deferred_ids or self._may_come_later(expected)):
                out.waiting = True
            else:
                out.issues.append(rec.issue(self._missing(ref), field_name))
        if out.issues or out.because or out.waiting:
            return out
        for e in p.edges:
            out.issues += self._check_edge(rec, e, found)
        out.issues += self._check_upstreams(rec, p.edges)
        out.issues += self._check_link_ends(rec, p.edges)
        return out

    def _check_link_ends(self, rec: Record, edges: list[EdgeFacts]) -> list[RowIssue]:
        """A link has exactly two ends: refuse TERMINATES edges that would give it a third
        (the store's ends count, so a feed cannot add ends beside the ones already there)."""
        mine: dict[str, set[str]] = {}
        for e in edges:
            if e.type == "TERMINATES":
                mine.setdefault(e.src, set()).add(e.dst)
        if not mine:
            return []
        known = self._ends()
        issues = []
        for link, ends in mine.items():
            before = known.get(link, set())
            after = before | ends
            if len(after) > LINK_ENDS:
                held = ", ".join(sorted(before)) or "none"
                extra = ", ".join(sorted(after - before))
                reason = (
                    f"{link!r} would have {len(after)} ends: it terminates on {held} already (in "
                    f"the store or earlier rows) and this row adds {extra}; a link has exactly "
                    f"{LINK_ENDS} ends (re-terminate it in the store first)"
                )
                issues.append(rec.issue(reason, "dst"))
        return issues

    def _ends(self) -> dict[str, set[str]]:
        """Every link's ends: the store's TERMINATES edges, read once, then the feed's."""
        if self._link_ends is None:
            self._link_ends = {}
            if not self.store_empty:
                for src, dst, _ in self.store.scan_edges("TERMINATES", ordered=False, props=False):
                    self._link_ends.setdefault(src, set()).add(dst)
        return self._link_ends

    def _check_upstreams(self, rec: Record, edges: list[EdgeFacts]) -> list[RowIssue]:
        """PART_OF, FED_BY, A_END and Z_END take one target per source across the whole feed
        (a second one would make the store refuse a batch half-way through the load)."""
        issues = []
        mine: dict[int, int] = {}
        up = self._upstreams  # its dicts read in order, as SpillMap.get would (prefetched)
        for e in edges:
            if e.type not in SINGLE_UPSTREAM:
                continue
            if e.type not in self._upstream_types_read:
                self._read_store_upstreams(e.type)
            key, target = hash((e.type, e.src)), _digest(e.dst)
            prior = mine.get(key) or up.recent.get(key) or up.older.get(key) or up.window.get(key)
            if prior is not None and prior != target:
                reason = (
                    f"{e.src!r} already has a {e.type} edge to another node in this feed or "
                    f"the store; an element has one {e.type} target"
                )
                issues.append(rec.issue(reason, "dst"))
            mine[key] = target
        return issues

    def _read_store_upstreams(self, edge_type: str) -> None:
        """Add the store's edges of a single-upstream type to the map, once (upsert refuses a
        second target for a source the store holds, so pass 1 must too)."""
        self._upstream_types_read.add(edge_type)
        if self.store_empty:
            return
        for src, dst, _ in self.store.scan_edges(edge_type, ordered=False, props=False):
            self._upstreams.recent.setdefault(hash((edge_type, src)), _digest(dst))
            self._upstreams.settle()  # the store holds one per source: no key is there already

    def _may_come_later(self, expected: str | None) -> bool:
        """True when a node of that kind may still appear further on in the input."""
        done = self._kinds_done
        return done is not None and (expected is None or expected not in done)

    @staticmethod
    def _wrong_kind(ref: _Ref, actual: str) -> str:
        """Why a reference points at a node of the wrong kind."""
        field_name, target, _ = ref
        if field_name == "owner":
            return f"owner must be 'self' or a Partner id; {target!r} is a {actual}"
        return f"unknown site {target!r} ({target!r} is a {actual})"

    @staticmethod
    def _missing(ref: _Ref) -> str:
        """Why a reference points at nothing."""
        field_name, target, _ = ref
        if field_name in ("src", "dst"):
            return f"edge to a missing node: {field_name} {target!r} is not in the feed or store"
        if field_name == "areas":
            return f"area {target!r} is not a Region or Site in the feed or the store"
        if field_name == "owner":
            return f"owner must be 'self' or a Partner id; {target!r} is not in feed or store"
        return f"unknown site {target!r} (not in the feed or the store)"

    def _check_edge(self, rec: Record, e: EdgeFacts, tags: dict[str, str]) -> list[RowIssue]:
        """The edge rules plan_batch applies: kinds joined, splitter stage, VC-12 slots."""
        src, dst = tags.get(e.src, ""), tags.get(e.dst, "")  # both resolved by _check_refs
        why = edge_rule_issue(e, kind_of(src), kind_of(dst))
        if why:
            if e.type == "COVERS":  # from a crew's areas
                why = f"area {e.dst!r} is a {kind_of(dst)}, not a Region or Site"
            return [rec.issue(why, "areas" if e.type == "COVERS" else "dst")]
        if e.type == "FED_BY" and kind_of(src) == "Splitter":
            want = 1 if kind_of(dst) == "PonPort" else 2
            if aux_of(src) != want:
                reason = f"a stage-{aux_of(src)} splitter cannot be fed by a {kind_of(dst)}"
                return [rec.issue(f"{reason} (needs stage {want})", "dst")]
        port_clash = self._ports.clash(e, kind_of(dst))
        if port_clash:
            return [rec.issue(port_clash, "dst")]
        if e.type == "ROUTED_OVER" and e.slots:
            capacity = aux_of(dst)
            outside = [s for s in e.slots if s < 1 or s > capacity]
            if outside:
                reason = f"VC-12 slots {outside} outside 1..{capacity} of {e.dst!r}"
                return [rec.issue(reason, "slots")]
            if len(set(e.slots)) != len(e.slots):
                return [rec.issue("the same VC-12 slot is listed twice", "slots")]
            clash = self._section(e.dst).clashes(e.src, e.slots)
            if clash:
                held = ", ".join(f"{s} by {h!r}" for s, h in sorted(clash.items())[:5])
                return [rec.issue(f"VC-12 slots of {e.dst!r} already held: {held}", "slots")]
        return []

    def _section(self, section_id: str) -> SectionSlots:
        """The slot map of a section: the store's holders first (read once), then the feed's."""
        slots = self._sections.get(section_id)
        if slots is None:
            slots = SectionSlots()
            if not self.store_empty:
                for edge, _ in self._store_holders(section_id):
                    slots.take(edge.src, list(edge.slots or []))
            self._sections[section_id] = slots
        return slots

    def _store_holders(self, section_id: str) -> list[tuple[Edge, Element]]:
        """Who holds slots of a section in the store (nothing if it is not there yet)."""
        try:
            return self.store.neighbours(section_id, "in", _SLOT_HOLDERS)
        except NotFound:
            return []

    # ---- outcomes ------------------------------------------------------------------------------

    def _accept(self, rec: Record, p: Parsed, late: bool = False) -> None:
        """Remember a valid row: its ids, scope, edges and slots."""
        res = self.result
        feed, upstreams, digests = res.feed.recent, self._upstreams.recent, res.edge_digests.recent
        for n in p.nodes:
            feed[n.id] = n.tag
            res.scope.add((n.kind, n.owner))
            res.nodes_by_kind[n.kind] += 1
        for e in p.edges:
            if not self.store_empty:  # only the drift report reads them, and it has no drift
                digests[edge_digest(e.type, e.src, e.dst)] = 1
            res.edge_types.add(e.type)
            res.edges_by_type[e.type] += 1
            if e.type == "ROUTED_OVER" and e.slots:
                self._section(e.dst).take(e.src, list(e.slots))
            self._ports.take(e)
            if e.type in SINGLE_UPSTREAM:
                upstreams[hash((e.type, e.src))] = _digest(e.dst)
            if e.type == "TERMINATES":
                self._ends().setdefault(e.src, set()).add(e.dst)
        res.valid_rows += 1
        if late:
            self._late += 1
            res.forward[rec.key] = (self._file, self._late)
        if self.spool is not None:
            self._spool(self.spool, rec, p)

    def _spool(self, spool: RowSink, rec: Record, p: Parsed) -> None:
        """Spool the row as pass 2 writes it: nodes the store lacks and edges leaving them in bulk
        (slot edges and edges taking an exclusive port excepted: the store re-checks VC-12 slots
        and ports under lock), the rest through upsert."""
        new_nodes: list[NodeRow] = []
        new_edges: list[PlainEdge] = []
        nodes: list[NodeRow] = []
        edges: list[PlainEdge] = []
        feed, stored = self.result.feed, self._stored  # their dicts in order: `check` prefetched
        recent, older, window = feed.recent, feed.older, feed.window
        s_recent, s_older, s_window = stored.recent, stored.older, stored.window
        for n in p.nodes:
            i = n.id
            was_stored = s_recent.get(i) or s_older.get(i) or s_window.get(i)
            (nodes if was_stored else new_nodes).append(n.props)
        tags = self._store_tags
        st_recent, st_older, st_window = tags.recent, tags.older, tags.window
        for e in p.edges:
            holds_slots = e.type in _SLOT_HOLDERS and bool(e.slots)
            dst = e.dst  # resolved by `_check_refs`: in the feed (this row's nodes too) or store
            dst_tag = (
                recent.get(dst)
                or older.get(dst)
                or window.get(dst)
                or st_recent.get(dst)
                or st_older.get(dst)
                or st_window.get(dst)
            )
            if dst_tag and takes_port(e.type, kind_of(dst_tag)):
                holds_slots = True  # the store re-checks the port too
            src = e.src
            in_feed = recent.get(src) or older.get(src) or window.get(src)
            was_stored = s_recent.get(src) or s_older.get(src) or s_window.get(src)
            bulk = bool(in_feed) and not was_stored and not holds_slots
            (new_edges if bulk else edges).append((e.type, e.src, e.dst, e.props))
        spool.add(f"{rec.file}:{rec.line}", new_nodes, new_edges, nodes, edges)

    def _reject(
        self, rec: Record, issues: list[RowIssue], because: list[RowIssue] | None = None
    ) -> None:
        """Mark a row bad: its own issues are listed; a row only refused because it depends on a
        rejected row is counted (its reason still goes to the rejects file)."""
        res = self.result
        res.bad[rec.key] = reason = "; ".join(str(i) for i in issues + (because or []))
        if self.on_reject is not None:
            self.on_reject(rec, reason)
        if not issues:
            res.dependent_rows += 1
        res.issue_count += len(issues)
        room = self.max_issues - len(res.issues)
        if room > 0:
            res.issues += issues[:room]
        for raw in rec.nodes:
            rid = raw.get("id")
            if not isinstance(rid, str) or rid in res.feed:
                continue
            # an id another waiting row defines: rows referring to it wait for that row
            if self._deferred_ids.get(rid, rec.key) == rec.key:
                res.rejected[rid] = rec.key
