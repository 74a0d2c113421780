"""Fixtures for CRM status feedback: the reference network, a settable clock, the provisioning
service (to put orders in each state) and the feedback service, on the memory store and Neo4j."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pboss.crm.feedback import FeedbackService
from pboss.crm.feedback_model import StatusMessage, SubjectKind
from pboss.inventory.store import GraphStore
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from tests.provisioning.conftest import Clock


@pytest.fixture
def clock() -> Clock:
    """Both services' clock."""
    return Clock()


@pytest.fixture
def prov(demo_store: GraphStore, clock: Clock) -> ProvisioningService:
    """Provisioning on the reference network (orders to report on)."""
    settings = ProvisioningSettings(links_cache_seconds=0)
    return ProvisioningService(demo_store, clock=clock, settings=settings)


@pytest.fixture
def fb(demo_store: GraphStore, clock: Clock) -> FeedbackService:
    """The feedback service on the same store and clock."""
    return FeedbackService(demo_store, clock=clock)


def message(msg_id: str, kind: str, subject: str, status: str, **more: Any) -> StatusMessage:
    """One CRM message."""
    return StatusMessage(
        message_id=msg_id, subject_kind=SubjectKind(kind), subject=subject, status=status, **more
    )


def tally(store: GraphStore) -> tuple[dict[str, int], int]:
    """Every node and edge count, and the last event's number: what a refused message must not
    change."""
    return store.counts(), last_seq(store)


def last_seq(store: GraphStore) -> int:
    """The newest event's number (through `events_after`, which both stores serve)."""
    logged = store.events_after(0, first=1000)
    return logged[-1].seq if logged else 0


Tally = Callable[[GraphStore], tuple[dict[str, int], int]]
