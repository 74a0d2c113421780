"""The customer's rating of a job (1-5 and a comment), sent by CRM after acceptance.

One write transaction: lock the work order, refuse a rating before acceptance (or of a failed or
cancelled job), record it with who and when, emit `WorkOrderRatedEvent`. The same rating sent
again changes nothing; a different one for an already rated job is refused (CRM owns the
customer's word, and it is given once).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pboss.inventory.events import NewEvent
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.errors import InvalidState
from pboss.provisioning.model import Event, WorkOrder, WorkOrderState
from pboss.provisioning.step_support import locked

RATED_EVENT = "WorkOrderRatedEvent"


def rate(
    store: GraphStore,
    work_order_id: str,
    rating: int,
    comment: str | None,
    *,
    actor: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[WorkOrder, bool]:
    """Record the customer's rating of an accepted job; (the work order, whether it changed).
    Raises NotFound, InvalidState (not accepted yet, already rated differently) or ValueError
    (a rating outside 1..5, a comment over 2,000 characters)."""
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    if comment is not None and len(comment) > 2000:
        raise ValueError("a rating's comment is at most 2,000 characters")
    now = clock()

    def work(tx: GraphTx) -> tuple[WorkOrder, bool]:
        wo: WorkOrder = locked(tx, work_order_id, "WorkOrder")
        if wo.rating is not None:
            if (wo.rating, wo.rating_comment) == (rating, comment):
                return wo, False
            raise InvalidState(
                f"work order {wo.id} is already rated", [f"rated {wo.rating} before"]
            )
        if wo.state != WorkOrderState.DONE:
            raise InvalidState(
                f"work order {wo.id} is {wo.state}", ["a job is rated after acceptance"]
            )
        new = wo.model_copy(deep=True)
        new.rating, new.rating_comment = rating, comment
        new.history = [
            *wo.history,
            Event(at=now, event="rated", note=f"{rating}/5", actor=actor).dumps(),
        ]
        tx.put(new)
        tx.emit(
            NewEvent(
                id=f"{wo.id}:rated",
                type=RATED_EVENT,
                at=now,
                subject=wo.id,
                body={
                    "@type": "WorkOrder",
                    "id": wo.id,
                    "rating": rating,
                    "comment": comment,
                    "assignee": wo.assignee,
                    "crew": wo.crew,
                    "product": wo.product,
                },
                sites=[wo.site] if wo.site else [],
                products=[wo.product] if wo.product else [],
                partners=[wo.assignee] if wo.assignee_type == "partner" else [],
            )
        )
        return new, True

    return store.transact(work, actor=actor, reason=f"rating of {work_order_id}")
