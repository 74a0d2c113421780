"""Engineers' view types: traces (top-down hops) and riders (bottom-up services, with totals).

Builders turn the store's Trace and Riders into GraphQL objects for one caller: hops and riders
the caller may not see are dropped or blanked (a partner sees its own hops, and riders only as
counts and health, never the services or customers). Riders page by service id; a partner's
cursors carry that id sealed (encrypted and authenticated with a per-process secret), so they
name no service, and a partner cannot page from an id it made up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from enum import Enum
from functools import partial
from typing import Any

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from pboss.graphql.connections import PageInfo, decode_cursor, encode_cursor
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import StatusEnum, UserInputError
from pboss.graphql.permissions import CAN_SEE_READS, HIDDEN_FROM_PARTNERS, sees_all
from pboss.graphql.types import Customer, Element, Partner, Service, element_reads, to_type
from pboss.inventory import model as m
from pboss.inventory import results as r
from pboss.inventory.lifecycle import Status


@strawberry.enum(description="What a dependant inherits from what it depends on.")
class Health(Enum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


#: Health by its value, without the enum's call (once per rider of a page).
_HEALTH = {h.value: h for h in Health}


def worst(healths: list[Health]) -> Health:
    """The worst of several healths (OK when there are none)."""
    order = [Health.OK, Health.DEGRADED, Health.DOWN]
    return max(healths, key=order.index, default=Health.OK)


@strawberry.type(description="One step of a path, in order, with its owner and capacity use.")
class Hop:
    position: int
    role: str = strawberry.field(
        description="ont, splitter_port, splitter, pon_port, olt, a_end, trunk, z_end, circuit, "
        "partner_access"
    )
    depth: int
    element: Element
    owner: str = strawberry.field(description='who owns it: "self" or the partner id')
    is_partner: bool
    status: StatusEnum
    seq: int | None = strawberry.field(description="position in a circuit's route")
    slots: list[int] | None = strawberry.field(description="VC-12 slots the circuit uses here")
    capacity: int | None = strawberry.field(description="VC-12 slots, splitter outputs, pool size")
    used: int | None

    @strawberry.field(description="capacity - used, when both are known")
    def free(self) -> int | None:
        if self.capacity is None or self.used is None:
            return None
        return self.capacity - self.used

    @strawberry.field(description="The partner owning this hop (null when self-built).")
    async def partner(self, info: Info) -> Partner | None:
        return await self.element.partner(info)  # type: ignore[misc,arg-type]


@strawberry.type(description="Top-down: what a service or circuit depends on, in path order.")
class Trace:
    root: Element
    hops: list[Hop]
    health: Health
    impaired_by: list[strawberry.ID]


@strawberry.type(description="The paths of all of a customer's services.")
class CustomerTrace:
    customer: Customer
    traces: list[Trace]
    health: Health


@strawberry.type(description="A key and how many.")
class Count:
    key: str
    count: int


@strawberry.type(description="Riders counted by product, customer type and SLA tier.")
class RiderTotals:
    services: int
    customers: int
    by_product: list[Count]
    by_customer_type: list[Count]
    by_sla_tier: list[Count]


@strawberry.type(description="A service riding on the resources asked about.")
class Rider:
    service: Service | None = strawberry.field(description="null for a partner key")
    customer: Customer | None = strawberry.field(description="null for a partner key")
    product: str | None
    health: Health
    impaired_by: list[strawberry.ID]


@strawberry.type
class RiderEdge:
    cursor: str
    node: Rider


@strawberry.type(description="Bottom-up: the services depending on some resources, paged.")
class RiderConnection:
    resources: list[strawberry.ID]
    totals: RiderTotals
    total_count: int
    edges: list[RiderEdge]
    page_info: PageInfo


RIDER_CURSOR = "rider"

# ---- sealed rider cursors (partners) ------------------------------------------------------------
#
# A partner may not learn service ids, and a plain cursor is base64 of `rider:<service id>`. Its
# cursor is instead version | nonce | ciphertext | tag: the service id (length-prefixed, padded to
# a multiple of 32 bytes so the length says little) XORed with an HMAC-SHA256 keystream over a
# random nonce, then authenticated with HMAC-SHA256 (encrypt-then-MAC, separate derived keys).
# The secret is made per process on first use: a cursor is good until the process restarts, and
# only on the replica that issued it (anything else is refused as an invalid cursor).

_SEAL_STATE = "rider_cursor_secret"
_SEAL_VERSION = b"\x01"
_NONCE_BYTES = 16
_TAG_BYTES = 16
_PAD = 32


def _seal_keys(ctx: Context) -> tuple[bytes, bytes]:
    secret: bytes = ctx.state.setdefault(_SEAL_STATE, secrets.token_bytes(32))
    enc = hmac.digest(secret, b"pboss rider cursor: encrypt", hashlib.sha256)
    mac = hmac.digest(secret, b"pboss rider cursor: authenticate", hashlib.sha256)
    return enc, mac


def _keystream(key: bytes, nonce: bytes, size: int) -> bytes:
    blocks = (
        hmac.digest(key, nonce + i.to_bytes(4, "big"), hashlib.sha256)
        for i in range(-(-size // 32))
    )
    return b"".join(blocks)[:size]


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def seal_rider_cursor(ctx: Context, service_id: str) -> str:
    """An opaque cursor for a partner: the service id encrypted and authenticated."""
    enc, mac = _seal_keys(ctx)
    raw = service_id.encode()
    body = len(raw).to_bytes(2, "big") + raw
    body += b"\0" * (-len(body) % _PAD)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = _SEAL_VERSION + nonce + _xor(body, _keystream(enc, nonce, len(body)))
    tag = hmac.digest(mac, sealed, hashlib.sha256)[:_TAG_BYTES]
    return base64.urlsafe_b64encode(sealed + tag).decode()


def _unseal(ctx: Context, cursor: str) -> str | None:
    try:
        blob = base64.urlsafe_b64decode(cursor.encode("ascii"))
    except (binascii.Error, UnicodeError, ValueError):
        return None
    head = len(_SEAL_VERSION) + _NONCE_BYTES
    if len(blob) < head + _PAD + _TAG_BYTES or not blob.startswith(_SEAL_VERSION):
        return None
    sealed, tag = blob[:-_TAG_BYTES], blob[-_TAG_BYTES:]
    enc, mac = _seal_keys(ctx)
    if not hmac.compare_digest(tag, hmac.digest(mac, sealed, hashlib.sha256)[:_TAG_BYTES]):
        return None
    nonce, body = sealed[len(_SEAL_VERSION) : head], sealed[head:]
    plain = _xor(body, _keystream(enc, nonce, len(body)))
    size = int.from_bytes(plain[:2], "big")
    try:
        key = plain[2 : 2 + size].decode()
    except UnicodeError:
        return None
    return key if key and 2 + size <= len(plain) else None


def rider_cursors(ctx: Context) -> Callable[[str], str]:
    """How this caller's rider cursors are made from service ids (sealed for a partner)."""
    if ctx.principal.is_partner:
        return partial(seal_rider_cursor, ctx)
    return partial(encode_cursor, RIDER_CURSOR)


def rider_after(ctx: Context, cursor: str | None) -> str | None:
    """The service id a rider cursor of this caller pages after (UserInputError when invalid).

    A partner's cursor must be one it was given: a plain `rider:<id>` cursor is refused, so a
    partner cannot page from (and so probe for) a service id of its own making.
    """
    if cursor is None or not ctx.principal.is_partner:
        return decode_cursor(RIDER_CURSOR, cursor)
    key = _unseal(ctx, cursor)
    if key is None:
        raise UserInputError(f"invalid cursor {cursor[:80]!r} for this list")
    return key


def build_hop(hop: r.Hop, position: int) -> Hop:
    """A visible hop, renumbered in the caller's view."""
    el = hop.element
    return Hop(
        position=position,
        role=hop.role,
        depth=hop.depth,
        element=to_type(el),
        owner=el.owner,
        is_partner=el.is_partner,
        status=Status(el.status),
        seq=hop.seq,
        slots=hop.slots,
        capacity=hop.capacity,
        used=hop.used,
    )


def build_trace(ctx: Context, trace: r.Trace) -> Trace:
    """The caller's view of a trace: hidden hops dropped, impairments only among visible ones."""
    shown = [h for h in trace.hops if ctx.sees(h.element)]
    visible = {h.element.id for h in shown} | {trace.root.id}
    return Trace(
        root=to_type(trace.root),
        hops=[build_hop(h, i) for i, h in enumerate(shown, start=1)],
        health=Health(trace.health),
        impaired_by=[i for i in trace.impaired_by if i in visible],
    )


def _counts(d: dict[str, int]) -> list[Count]:
    return [Count(key=k, count=v) for k, v in d.items()]


# ---- what a riders selection reads of its services and customers ------------------------------

#: The path from a riders field down to a rider's elements, and the element fields at its end.
_TO_NODE = ("edges", "node")
_RIDER_ELEMENTS: dict[str, type[Element]] = {"service": Service, "customer": Customer}


def _fields(selection_set: SelectionSetNode | None, fragments: Any, seen: set[str]) -> list[Any]:
    """The field nodes of one selection level, through inline fragments and fragment spreads
    whatever their type condition or directives (more fields than the answer shows, never fewer)."""
    out: list[Any] = []
    for sel in selection_set.selections if selection_set is not None else ():
        if isinstance(sel, FieldNode):
            out.append(sel)
        elif isinstance(sel, InlineFragmentNode):
            out += _fields(sel.selection_set, fragments, seen)
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
            seen.add(sel.name.value)
            details = fragments.get(sel.name.value)
            definition = getattr(details, "definition", details)
            if definition is not None:
                out += _fields(definition.selection_set, fragments, seen)
    return out


#: What a riders selection reads, by the identity of the schema and of the riders field's nodes
#: (the parser cache hands back the same document for the same query text; this depends on the
#: selection alone, a partner's additions are made per call), each kept with its nodes so their
#: ids cannot be reused meanwhile.
_RIDER_FIELDS: dict[tuple[int, ...], tuple[tuple[Any, ...], r.RiderFields | None]] = {}
#: Answers kept before the cache starts afresh (one per distinct riders selection).
_MAX_RIDER_FIELDS = 256


def rider_fields(info: Info) -> r.RiderFields | None:
    """The stored properties a riders selection reads of services and customers, so the store
    sends only those; None (whole elements) when a field there may read any property (attrs).
    For a partner, whose view depends on each element, also what `can_see` reads."""
    raw = info._raw_info
    nodes = tuple(raw.field_nodes)
    key = (id(raw.schema), *map(id, nodes))
    hit = _RIDER_FIELDS.get(key)
    if hit is None:
        if len(_RIDER_FIELDS) >= _MAX_RIDER_FIELDS:
            _RIDER_FIELDS.clear()
        hit = _RIDER_FIELDS[key] = ((raw.schema, *nodes), _selected_rider_fields(info))
    fields = hit[1]
    if fields is None or not info.context.principal.is_partner:
        return fields
    return r.RiderFields(
        _seen_by_partner(m.Service, fields.service), _seen_by_partner(m.Customer, fields.customer)
    )


#: What `can_see` reads of each kind of rider element (its fields among `CAN_SEE_READS`).
_SEE_READS = {
    cls.kind: frozenset(CAN_SEE_READS & cls.model_fields.keys()) for cls in (m.Service, m.Customer)
}


def _seen_by_partner(kind: type[m.Element], asked: frozenset[str]) -> frozenset[str]:
    """What a partner's page needs of a rider element of this kind: no property of a kind it
    never sees (only the identity and kind leave the store: a customer's phone stays there),
    else what the selection reads and what `can_see` reads."""
    if kind.kind in HIDDEN_FROM_PARTNERS:
        return frozenset()
    return asked | _SEE_READS[kind.kind]


def _selected_rider_fields(info: Info) -> r.RiderFields | None:
    """`rider_fields` worked out from the selection."""
    raw = info._raw_info
    nodes = list(raw.field_nodes)
    for name in _TO_NODE:
        nodes = [f for n in nodes for f in _fields(n.selection_set, raw.fragments, set())]
        nodes = [f for f in nodes if f.name.value == name]
    asked: dict[str, set[str]] = {"service": set(), "customer": set()}
    for node in nodes:
        for field in _fields(node.selection_set, raw.fragments, set()):
            kind = field.name.value
            if kind not in asked:
                continue
            cls = _RIDER_ELEMENTS[kind]
            gql_type = raw.schema.type_map[cls.__name__]
            for sub in _fields(field.selection_set, raw.fragments, set()):
                if sub.name.value == "__typename":
                    continue
                field_def = gql_type.fields.get(sub.name.value)  # type: ignore[union-attr]
                own = field_def.extensions.get("strawberry-definition") if field_def else None
                reads = element_reads(cls, own.python_name) if own else None
                if reads is None:
                    return None
                asked[kind] |= reads
    return r.RiderFields(frozenset(asked["service"]), frozenset(asked["customer"]))


def build_riders(ctx: Context, riders: r.Riders) -> RiderConnection:
    """The caller's view of riders: partners get counts and health, not services or customers."""
    asked = set(riders.resource_ids)
    principal = ctx.principal
    partner, sees, every = principal.is_partner, ctx.sees, sees_all(principal)
    items = riders.items
    services: list[Element | None]
    customers: list[Element | None]
    if every is None:  # a partner: asked per element
        services = [to_type(x.service) if sees(x.service) else None for x in items]
        customers = [to_type(x.customer) if sees(x.customer) else None for x in items]
    elif every:  # the same answer for every element
        services = [to_type(x.service) for x in items]
        customers = [None if x.customer is None else to_type(x.customer) for x in items]
    else:
        services = customers = [None] * len(items)
    # Rider and RiderEdge are built as their dataclass `__init__` would (which only assigns the
    # fields: these types have no `__post_init__`), without the keyword call: a page makes 100
    new, health_of, cursor = object.__new__, _HEALTH.get, rider_cursors(ctx)
    edges = []
    for x, service, customer in zip(items, services, customers, strict=True):
        svc = x.service
        node = new(Rider)
        values = node.__dict__
        values["service"] = service
        values["customer"] = customer
        values["product"] = getattr(svc, "product", None)
        values["health"] = health_of(x.health) or Health(x.health)
        values["impaired_by"] = (
            [i for i in x.impaired_by if i in asked] if partner else list(x.impaired_by)
        )
        edge = new(RiderEdge)
        values = edge.__dict__
        values["cursor"] = cursor(svc.id)
        values["node"] = node
        edges.append(edge)
    t = riders.totals
    return RiderConnection(
        resources=list(riders.resource_ids),
        totals=RiderTotals(
            services=t.services,
            customers=t.customers,
            by_product=_counts(t.by_product),
            by_customer_type=_counts(t.by_customer_type),
            by_sla_tier=_counts(t.by_sla_tier),
        ),
        total_count=t.services,
        edges=edges,
        page_info=PageInfo(
            has_next_page=riders.next_cursor is not None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
