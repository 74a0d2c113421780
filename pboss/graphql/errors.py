"""Typed errors: expected failures come back as members of a result union, never as a trace.

Each implements the `Error` interface (message and a stable code). `UserInputError` is for the few
fields that return plain data (lists): it becomes a GraphQL error with `extensions.code`, which
error masking lets through because it is meant for the caller.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from pboss.inventory import errors as inv
from pboss.inventory.lifecycle import TRANSITIONS, Status
from pboss.inventory.model import EdgeType

StatusEnum = strawberry.enum(Status, name="Status", description="Lifecycle status of an element.")
EdgeTypeEnum = strawberry.enum(EdgeType, name="EdgeType", description="Relationship types.")


class UserInputError(GraphQLError):
    """A bad argument on a field that has no error union (e.g. a malformed cursor)."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT"):
        super().__init__(message, extensions={"code": code})


@strawberry.interface(description="Every expected failure: a message and a stable code.")
class Error:
    message: str
    code: str


@strawberry.type(description="No element with this id (or none this caller may see).")
class NotFound(Error):
    id: strawberry.ID
    kind: str | None

    @classmethod
    def of(cls, element_id: str, kind: str | None = None) -> NotFound:
        """The not-found answer for an id, worded like the inventory's own error."""
        what = kind or "element"
        return cls(
            message=f"{what} {element_id!r} not found", code="NOT_FOUND", id=element_id, kind=kind
        )


@strawberry.type(description="The caller's role may not do this.")
class Forbidden(Error):
    action: str
    role: str

    @classmethod
    def of(cls, action: str, role: str, detail: str = "") -> Forbidden:
        """The refusal of an action to a role."""
        msg = f"{action} is not allowed for role {role!r}" + (f": {detail}" if detail else "")
        return cls(message=msg, code="FORBIDDEN", action=action, role=role)


@strawberry.type(description="A status change the lifecycle table does not allow.")
class InvalidTransition(Error):
    id: strawberry.ID
    from_status: StatusEnum
    to_status: StatusEnum
    allowed: list[StatusEnum]

    @classmethod
    def of(cls, exc: inv.InvalidTransition) -> InvalidTransition:
        """From the inventory's exception, with the statuses that would have been allowed."""
        src = Status(exc.from_status)
        return cls(
            message=str(exc),
            code="INVALID_TRANSITION",
            id=exc.element_id,
            from_status=src,
            to_status=Status(exc.to_status),
            allowed=sorted(TRANSITIONS[src], key=list(Status).index),
        )


@strawberry.type(description="One problem with one input item.")
class Issue:
    item: str
    field: str | None
    reason: str
    index: int | None


@strawberry.type(description="The input was refused as a whole; nothing was written.")
class ValidationError(Error):
    issues: list[Issue]

    @classmethod
    def of(cls, issues: list[inv.Issue]) -> ValidationError:
        """From the inventory's issues (each names the offending item)."""
        return cls.of_exc(inv.ValidationFailed(issues))

    @classmethod
    def of_exc(cls, exc: inv.ValidationFailed) -> ValidationError:
        """From a refused batch."""
        return cls(
            message=str(exc),
            code="VALIDATION_FAILED",
            issues=[
                Issue(item=i.item, field=i.field, reason=i.reason, index=i.index)
                for i in exc.issues
            ],
        )

    @classmethod
    def single(cls, item: str, reason: str, field: str | None = None) -> ValidationError:
        """One issue with one argument; an argument named as both item and field is said once
        (`product: ...`, not `product.product: ...`)."""
        issue = inv.Issue(item=item, reason=reason, field=field)
        where = item if field in (None, item) else f"{item}.{field}"
        return cls(
            message=f"1 invalid item(s): {where}: {reason}",
            code="VALIDATION_FAILED",
            issues=[Issue(item=issue.item, field=issue.field, reason=reason, index=None)],
        )


@strawberry.type(description="A delete refused because other elements depend on these.")
class HasDependants(Error):
    ids: list[strawberry.ID]
    dependants: list[strawberry.ID]
    count: int

    @classmethod
    def of(cls, exc: inv.HasDependants) -> HasDependants:
        """From the inventory's exception (dependants listed up to 100)."""
        return cls(
            message=str(exc),
            code="HAS_DEPENDANTS",
            ids=list(exc.element_ids),
            dependants=list(exc.dependants[:100]),
            count=len(exc.dependants),
        )


ERROR_TYPES: list[type] = [NotFound, Forbidden, InvalidTransition, ValidationError, HasDependants]
