"""Typed errors of the inventory: every expected failure names the offending item."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    """One problem with one input item: which item, which field, and why."""

    item: str
    reason: str
    field: str | None = None
    index: int | None = None

    def __str__(self) -> str:
        where = self.item if self.field is None else f"{self.item}.{self.field}"
        at = f"#{self.index} " if self.index is not None else ""
        return f"{at}{where}: {self.reason}"


class PbossError(Exception):
    """Base of every error pboss expects and reports to its users."""

    code = "error"


class ValidationFailed(PbossError):
    """A batch was refused; nothing of it was written."""

    code = "invalid_input"

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        shown = "; ".join(str(i) for i in issues[:10])
        more = f" (and {len(issues) - 10} more)" if len(issues) > 10 else ""
        super().__init__(f"{len(issues)} invalid item(s): {shown}{more}")


class PortInUse(ValidationFailed):
    """A write would give an exclusive port (a splitter output, an NE port) a second user or
    take one a reservation holds; each issue names the port and its current user or holder."""

    code = "port_in_use"


class TxConflict(PbossError):
    """A write transaction contradicts what is stored (e.g. an id taken by a node of another
    kind); nothing of it was written. Callers turn it into their own error."""

    code = "conflict"

    def __init__(self, message: str, reasons: list[str]):
        self.message = message
        self.reasons = list(reasons)
        super().__init__(f"{message}: {'; '.join(self.reasons)}" if self.reasons else message)


class NotFound(PbossError):
    """No element has this id."""

    code = "not_found"

    def __init__(self, element_id: str, kind: str | None = None):
        self.element_id = element_id
        self.kind = kind
        super().__init__(f"{kind or 'element'} {element_id!r} not found")


class InvalidTransition(PbossError):
    """A status change that the lifecycle table does not allow."""

    code = "invalid_transition"

    def __init__(self, element_id: str, from_status: str, to_status: str):
        self.element_id = element_id
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(
            f"{element_id!r}: status cannot change from {from_status!r} to {to_status!r}"
        )


@dataclass
class HasDependants(PbossError):
    """A delete that would orphan the elements that depend on the deleted ones."""

    element_ids: list[str]
    dependants: list[str] = field(default_factory=list)
    code = "has_dependants"

    def __post_init__(self) -> None:
        shown = ", ".join(repr(d) for d in self.dependants[:10])
        super().__init__(
            f"{len(self.dependants)} element(s) depend on {self.element_ids!r} ({shown}); "
            "delete them first or ask for a cascade"
        )


class StoredDataInvalid(PbossError):
    """The store holds data the model now refuses (written before a rule was tightened): pboss
    will not answer from it until it is put right, since it cannot tell which part is wrong."""

    code = "stored_data_invalid"


class StoreUnavailable(PbossError):
    """The store's server cannot be reached (down, restarting, or the connection was lost and
    the driver's retries gave up): nothing was answered or written; try again later."""

    code = "store_unavailable"
