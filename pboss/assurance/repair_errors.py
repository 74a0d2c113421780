"""Typed refusals of repair work (dispatch, resolution, closing): what was asked and why not.

A missing incident, ticket or work order is the inventory's `NotFound`; these say that the record
exists but the step does not apply to it now, or not for this caller.
"""

from __future__ import annotations

from pboss.inventory.errors import PbossError


class RepairRefused(PbossError):
    """The step does not apply to the record as it stands (e.g. resolving a closed incident);
    nothing was written. `reasons` say what stands in the way."""

    code = "invalid_state"

    def __init__(self, message: str, reasons: list[str] | None = None):
        self.message = message
        self.reasons = list(reasons or [])
        super().__init__(f"{message}: {'; '.join(self.reasons)}" if self.reasons else message)


class NotYours(PbossError):
    """A partner acted on repair work that was not dispatched to it; nothing was written."""

    code = "forbidden"

    def __init__(self, record_id: str, partner: str):
        self.record_id = record_id
        self.partner = partner
        super().__init__(f"{record_id} is not dispatched to {partner}")
