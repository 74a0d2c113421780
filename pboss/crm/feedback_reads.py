"""Reading status feedback back: the mismatches (filtered, paged, with totals) and what CRM said
about one subject.

Mismatches are listed from one streamed scan of the `CrmMismatch` records (`scan_nodes`, ordered
by id), filtered on their state and rule as they stream, so the totals are exact. There is one
record per (rule, subject), reopened when a disagreement comes back, so their number grows with
the subjects that ever disagreed, not with the reports. (A store query filtering on a record's
state would make the open list an index read; the store port has none yet.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pboss.crm.feedback import PACKAGE_KIND, PORT_KINDS, find_package, package_parts
from pboss.crm.feedback_model import (
    CrmMismatch,
    CrmStatusReport,
    MismatchKind,
    MismatchState,
    SubjectKind,
)
from pboss.inventory.catalog import Catalog
from pboss.inventory.model import from_props
from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import NotFound
from pboss.provisioning.model import Order
from pboss.provisioning.requests import order_id_for


@dataclass
class MismatchPage:
    """One page of mismatches, the number matching the filter, and every record's count by
    (rule, state) whatever the filter."""

    items: list[CrmMismatch]
    total: int
    next_cursor: str | None
    totals: dict[tuple[str, str], int] = field(default_factory=dict)


def list_mismatches(
    store: GraphStore,
    *,
    open: bool | None = None,
    kinds: Sequence[MismatchKind] | None = None,
    first: int = 50,
    after: str | None = None,
) -> MismatchPage:
    """Mismatches by id after `after`, open only, resolved only or both (`open` None), of these
    rules (all when None or empty), at most `first`."""
    state = None if open is None else (MismatchState.OPEN if open else MismatchState.RESOLVED)
    rules = {str(k) for k in kinds} if kinds else None
    totals: Counter[tuple[str, str]] = Counter()
    items: list[CrmMismatch] = []
    total = 0
    more = False
    for props in store.scan_nodes(CrmMismatch.kind):
        rule, st = str(props.get("rule")), str(props.get("state"))
        totals[(rule, st)] += 1
        if (state is not None and st != state) or (rules is not None and rule not in rules):
            continue
        total += 1
        if after is not None and str(props["id"]) <= after:
            continue
        if len(items) < first:
            items.append(from_props(props))  # type: ignore[arg-type]
        else:
            more = True
    next_cursor = items[-1].id if more and items else None
    return MismatchPage(items, total, next_cursor, dict(totals))


@dataclass
class SubjectFeedback:
    """What CRM said about one subject (newest first) and its mismatches, open and resolved."""

    subject: str
    subject_kind: SubjectKind
    reports: list[CrmStatusReport]
    report_count: int
    mismatches: list[CrmMismatch]


def _anchor_of(store: GraphStore, catalog: Catalog, subject: str) -> tuple[SubjectKind, str, str]:
    """(kind, pboss id, the node its records hang off) of a subject named by its pboss id, by
    CRM's order id, or by a package id; NotFound otherwise."""
    el = store.get(subject)
    if isinstance(el, Order):
        return SubjectKind.ORDER, el.id, el.id
    if el is not None and el.kind in PORT_KINDS:
        return SubjectKind.PORT, el.id, el.id
    if el is None and isinstance(store.get(order_id_for(subject)), Order):
        oid = order_id_for(subject)
        return SubjectKind.ORDER, oid, oid
    if el is None and package_parts(subject) is not None:
        pkg = find_package(store, catalog, subject)
        return SubjectKind.PACKAGE, pkg.id, pkg.site.id
    raise NotFound(subject, "order, port or business resource")


def feedback_of(
    store: GraphStore, catalog: Catalog, subject: str, *, first: int = 50
) -> SubjectFeedback:
    """The reports about a subject, newest first (at most `first`), and all its mismatches."""
    kind, sid, anchor = _anchor_of(store, catalog, subject)
    linked = [el for _, el in store.neighbours(anchor, "in", ["ABOUT"])]
    reports = [el for el in linked if isinstance(el, CrmStatusReport) and el.subject == sid]
    reports.sort(key=lambda r: (r.received_at, r.id), reverse=True)
    mismatches = sorted(
        (el for el in linked if isinstance(el, CrmMismatch) and el.subject == sid),
        key=lambda m: m.id,
    )
    return SubjectFeedback(sid, kind, reports[:first], len(reports), mismatches)


__all__ = ["PACKAGE_KIND", "MismatchPage", "SubjectFeedback", "feedback_of", "list_mismatches"]
