"""Typed cutover errors: each says what went wrong and why; none leaves anything written."""

from __future__ import annotations

from pboss.inventory.errors import PbossError


class CutoverError(PbossError):
    """Base of the errors a cutover call reports; `reasons` explain it."""

    code = "cutover_error"

    def __init__(self, message: str, reasons: list[str] | None = None):
        self.reasons = list(reasons or [])
        self.message = message
        super().__init__(message if not self.reasons else f"{message}: {'; '.join(self.reasons)}")


class PlanInvalid(CutoverError):
    """The described move does not fit the live graph (a port taken, a budget exceeded, ...)."""

    code = "plan_invalid"


class PlanNotFound(CutoverError):
    """No cutover plan has this id."""

    code = "not_found"

    def __init__(self, plan_id: str):
        self.plan_id = plan_id
        super().__init__(f"cutover plan {plan_id!r} not found")


class InvalidTransition(CutoverError):
    """The plan's state does not allow this step (the transition table refuses it)."""

    code = "invalid_state"


class AssumptionBroken(CutoverError):
    """Something the plan relied on changed since it was approved; nothing was written."""

    code = "assumption_broken"
