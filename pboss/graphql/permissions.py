"""Who is calling (`Principal`) and what each role may see and do. Every element the API returns
passes `can_see` first.

A partner key sees its own resources (owner == its partner id), its own Partner record, regions
and sites (places, not people, except customer premises) and the catalog's products. It never sees
a customer, a service or anything another owner holds, by any path: lookups, lists, traces,
riders, nested fields. Reads are open to every other role; writes are for engineers and admins,
cascading deletes for admins only; a partner may write only its own resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pboss.inventory.model import Element

#: `network` is the network's alarm sources (an NMS, a probe): they raise and clear alarms
#: (`POST /alarms`, `raiseAlarm`/`clearAlarm`) and read no element (it has no `_ALLOWED` entry).
ROLES = ("crm", "engineer", "admin", "partner", "network")


@dataclass(frozen=True)
class Principal:
    """The caller: a role, a name for the audit trail, and the partner it speaks for (the HTTP
    layer maps an API key to one, `pboss.http.auth`)."""

    role: str
    name: str
    partner_id: str | None = None

    @property
    def is_partner(self) -> bool:
        """True for a partner key, which sees only its own resources."""
        return self.role == "partner"

    @property
    def actor(self) -> str:
        """How status changes and writes record who made them."""
        return f"{self.role}:{self.name}"


ANONYMOUS = Principal(role="anonymous", name="anonymous")


def parse_role(spec: str, name: str) -> Principal:
    """Turn a role spec (`crm`, `engineer`, `admin`, `partner:<id>`) into a principal."""
    role, _, partner = spec.strip().partition(":")
    if role not in ROLES:
        raise ValueError(
            f"unknown role {spec!r}; use one of crm, engineer, admin, network, partner:<id>"
        )
    if role == "partner":
        if not partner:
            raise ValueError("a partner role names its partner: partner:<partner id>")
        return Principal(role="partner", name=name, partner_id=partner)
    if partner:
        raise ValueError(f"role {role!r} takes no suffix, got {spec!r}")
    return Principal(role=role, name=name)


#: Kinds a partner may read whoever owns them (places and the catalog, no people).
PLACE_KINDS = frozenset({"Region", "Site", "Product"})
#: Kinds a partner never sees, whoever owns them (people: their names, phones and addresses).
HIDDEN_FROM_PARTNERS = frozenset({"Customer"})
#: Kinds a partner may never create or change, even as owner.
NOT_PARTNER_WRITABLE = frozenset({"Customer", "Service", "Partner", "Site", "Region", "Product"})


class Action(StrEnum):
    """Things a caller may be allowed to do."""

    READ = "read"
    BUSINESS_VIEW = "business view"
    WRITE = "write"
    SET_STATUS = "set status"
    DELETE = "delete"
    CASCADE_DELETE = "cascade delete"


_ALLOWED: dict[str, frozenset[Action]] = {
    "crm": frozenset({Action.READ, Action.BUSINESS_VIEW}),
    "engineer": frozenset(
        {Action.READ, Action.BUSINESS_VIEW, Action.WRITE, Action.SET_STATUS, Action.DELETE}
    ),
    "admin": frozenset(Action),
    "partner": frozenset({Action.READ, Action.WRITE, Action.SET_STATUS}),
}


def allows(principal: Principal, action: Action) -> bool:
    """True when the principal's role may perform the action at all."""
    return action in _ALLOWED.get(principal.role, frozenset())


#: The properties `can_see` reads of an element (a caller fetching only some properties, such as
#: riders' projected pages, must fetch these for a partner, whose view depends on them).
CAN_SEE_READS = frozenset({"id", "kind", "owner", "site_type"})


def can_see(principal: Principal, el: Element) -> bool:
    """True when this element may be shown to the principal (reading only `CAN_SEE_READS`)."""
    if not principal.is_partner:
        return principal.role in _ALLOWED
    if el.kind in HIDDEN_FROM_PARTNERS:
        return False
    if el.kind == "Partner":
        return el.id == principal.partner_id
    if el.kind in PLACE_KINDS:
        return getattr(el, "site_type", None) != "customer_premises"
    return el.owner == principal.partner_id


def sees_all(principal: Principal) -> bool | None:
    """What `can_see` answers for every element when that does not depend on the element (any
    role but a partner), or None (a partner): a page of elements then asks once."""
    if principal.is_partner:
        return None
    return principal.role in _ALLOWED


def sees_phones(principal: Principal) -> bool:
    """True when the principal may see customers' phones, hence search by them (never a
    partner: a phone search must not become a way to probe who is a customer)."""
    return not principal.is_partner and principal.role in _ALLOWED


def owner_scope(principal: Principal) -> str | None:
    """The owner every list must be restricted to for this principal (None: no restriction)."""
    return principal.partner_id if principal.is_partner else None


def can_write(principal: Principal, el: Element) -> bool:
    """True when the principal may create or change this element (as it will be after the write)."""
    if not allows(principal, Action.WRITE):
        return False
    if not principal.is_partner:
        return True
    return el.kind not in NOT_PARTNER_WRITABLE and el.owner == principal.partner_id
