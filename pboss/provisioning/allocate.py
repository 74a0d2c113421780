"""Re-check ranked candidates against what the store holds *under lock*, and pick what to take.

Every store's transaction gathers the same `Facts` after locking (`GraphTx.claim`), and the
steps call `allocate` on them; so the decision (which port, which VC-12 slots) is the same code
on every store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pboss.inventory.transaction import Facts
from pboss.provisioning.paths import USABLE
from pboss.provisioning.plan import Allocation, Candidate, Claim, HeldItem


def _take_port(claim: Claim, facts: Mapping[str, Facts], taken: set[str]) -> HeldItem | str:
    for pid in claim.options:
        f = facts.get(pid)
        if f and not f.busy and f.status == "available" and pid not in taken:
            return HeldItem(id=pid, kind=f.kind, role=claim.role)
    return f"{claim.role} port(s) {', '.join(claim.options)} no longer free"


def _check(claim: Claim, facts: Mapping[str, Facts], taken: set[str]) -> HeldItem | str | None:
    """The item a claim takes, None when it takes nothing (budget), or why it cannot be met."""
    if claim.type == "port":
        return _take_port(claim, facts, taken)
    rid = claim.options[0]
    f = facts.get(rid)
    if f is None:
        return f"{rid} no longer exists"
    if f.status not in USABLE:
        return f"{rid} is {f.status}"
    if claim.type == "slots":
        free = f.free_slots
        if len(free) < claim.slots:
            return f"{rid} has {len(free)} free VC-12 slots, {claim.slots} needed"
        return HeldItem(
            id=rid, kind=f.kind, role=claim.role, seq=claim.seq, slots=free[: claim.slots]
        )
    if claim.type == "budget":
        if (f.load or 0) + 1 > f.budget:
            return f"PON port {rid} reached its split budget ({f.load}/{f.budget})"
        return None
    if f.pool_free < 1:
        return f"pool {rid} has no free unit"
    return HeldItem(id=rid, kind=f.kind, role=claim.role)


def allocate(
    candidates: Sequence[Candidate], facts: Mapping[str, Facts]
) -> tuple[Allocation | None, list[str]]:
    """The first candidate whose every claim still holds, with the exact items to take.

    Returns (None, reasons) when concurrent reservations took every candidate since it was ranked.
    """
    lost: list[str] = []
    for index, cand in enumerate(candidates):
        items: list[HeldItem] = []
        taken: set[str] = set()
        failure = None
        for claim in cand.claims:
            got = _check(claim, facts, taken)
            if isinstance(got, str):
                failure = got
                break
            if got is not None:
                items.append(got)
                taken.add(got.id)
        if failure is None:
            return Allocation(candidate=index, label=cand.label, items=items, lost=lost), lost
        lost.append(f"{cand.label}: {failure}")
    return None, lost
