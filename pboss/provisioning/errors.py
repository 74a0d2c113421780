"""Typed provisioning errors: each says what went wrong and why; none leaves anything written."""

from __future__ import annotations

from pboss.inventory.errors import NotFound as InventoryNotFound
from pboss.inventory.errors import PbossError


class ProvisioningError(PbossError):
    """Base of the errors a provisioning step reports to CRM; `reasons` explain it."""

    code = "provisioning_error"

    def __init__(self, message: str, reasons: list[str] | None = None):
        self.reasons = list(reasons or [])
        self.message = message
        super().__init__(message if not self.reasons else f"{message}: {'; '.join(self.reasons)}")


class NoCapacity(ProvisioningError):
    """Nothing free can serve the request (no port, no path with enough slots, a faulty chain)."""

    code = "no_capacity"


class InvalidState(ProvisioningError):
    """The order, reservation or work order is in a state that does not allow this step."""

    code = "invalid_state"


class Expired(ProvisioningError):
    """The reservation's hold ran out before it was confirmed."""

    code = "expired"


class Conflict(ProvisioningError):
    """The request contradicts what is already recorded (e.g. one CRM order id, two contents)."""

    code = "conflict"


class InvalidRequest(ProvisioningError):
    """The request itself is malformed: unknown product, missing or wrong sites. `fields` names
    the request's fields at fault (`OrderRequest` names), so an API can say them its own way."""

    code = "invalid_request"

    def __init__(
        self, message: str, reasons: list[str] | None = None, fields: list[str] | None = None
    ):
        super().__init__(message, reasons)
        self.fields = list(fields or [])


class NotFound(InventoryNotFound):
    """No order, reservation, work order or site has this id."""

    def __init__(self, element_id: str, kind: str | None = None):
        super().__init__(element_id, kind)
        self.reasons = [str(self)]
