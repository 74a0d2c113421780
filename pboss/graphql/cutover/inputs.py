"""Inputs of the cutover mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.input(description="One rider (an ONT or cascaded splitter) and the output it moves to.")
class PortMapping:
    rider: strawberry.ID
    target_port: strawberry.ID


@strawberry.input(description="Re-home riders of splitter `source` onto splitter `target`.")
class RehomePlanInput:
    source: strawberry.ID
    target: strawberry.ID
    window_start: datetime
    window_end: datetime
    reason: str
    mappings: list[PortMapping] | None = strawberry.field(
        default=None, description="Given: exactly these moves; absent: all of A's riders, in order."
    )
    id: strawberry.ID | None = None


@strawberry.input(description="Move circuits off a trunk section or partner link.")
class ReroutePlanInput:
    link: strawberry.ID
    window_start: datetime
    window_end: datetime
    reason: str
    circuits: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Absent: every circuit routed over the link."
    )
    self_built_only: bool | None = strawberry.field(
        default=None, description="Only self-built sections (default: when leaving a partner link)."
    )
    id: strawberry.ID | None = None
