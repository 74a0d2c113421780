"""Reporting to CRM: the outbox keeps events in order; a failing callback keeps them for a retry."""

from __future__ import annotations

from datetime import UTC, datetime

from pboss.provisioning.notify import CallbackNotifier, OrderEvent, Outbox


def _event(n: int) -> OrderEvent:
    return OrderEvent(
        order_id="ORD-1",
        crm_order_id="1",
        state="inProgress",
        event=f"e{n}",
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_outbox_drains_in_order_once() -> None:
    box = Outbox()
    for n in range(3):
        box.publish(_event(n))
    assert [e.event for e in box.peek()] == ["e0", "e1", "e2"]
    assert [e.event for e in box.drain()] == ["e0", "e1", "e2"]
    assert box.drain() == []


def test_callback_keeps_failed_deliveries_for_a_retry() -> None:
    delivered: list[str] = []
    crm_up = False

    def deliver(event: OrderEvent) -> None:
        if not crm_up:
            raise ConnectionError("CRM unreachable")
        delivered.append(event.event)

    notifier = CallbackNotifier(deliver)
    notifier.publish(_event(0))
    notifier.publish(_event(1))
    assert delivered == [] and [e.event for e in notifier.failed] == ["e0", "e1"]
    assert notifier.retry() == 2
    crm_up = True
    assert notifier.retry() == 0
    assert delivered == ["e0", "e1"]
