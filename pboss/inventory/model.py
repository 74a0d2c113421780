"""The resource model: one pydantic class per kind, edges with the kinds they may join.

Every node is stored flat (Neo4j keeps no nested maps): the common fields, the kind's own fields,
and free `attrs` whose keys must not shadow a field. Edges point from the dependent to what it
depends on.

Size: one class per kind and the edge rules between them, read as one table of the model.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from enum import Enum, StrEnum
from typing import Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pboss.inventory.errors import Issue
from pboss.inventory.lifecycle import Status

Scalar = str | int | float | bool
AttrValue = Scalar | list[str] | list[int] | list[float]

SELF = "self"
INT64 = (-(2**63), 2**63 - 1)


def check_int64(values: Mapping[str, Any]) -> None:
    """Refuse integers a Neo4j property cannot hold (64-bit signed), so both stores agree.

    Values are the model's: scalars or lists of them (a bool is an int that always fits).
    """
    for key, value in values.items():
        _check_fits(key, value)


def _check_fits(key: str, value: Any) -> None:
    """Refuse one value (an int, or a list holding ints) beyond 64 bits."""
    low, high = INT64
    if isinstance(value, list):
        for item in value:
            if isinstance(item, int) and not low <= item <= high:
                raise ValueError(f"{key}: {item} does not fit in a 64-bit integer")
    elif isinstance(value, int) and not low <= value <= high:
        raise ValueError(f"{key}: {value} does not fit in a 64-bit integer")


def _admits_int(annotation: Any) -> bool:
    """True when a field's annotation lets an int (or a list of them) through."""
    if annotation is int or annotation is Any:
        return True
    return any(_admits_int(arg) for arg in get_args(annotation))


@functools.cache
def int_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a model class that may hold an int, besides `attrs` (checked whole): the
    only ones the 64-bit check needs to look at (read once per class)."""
    return tuple(
        name
        for name, info in cls.model_fields.items()
        if name != "attrs" and _admits_int(info.annotation)
    )


def check_int_fields(model: BaseModel, attrs: Mapping[str, Any]) -> None:
    """The 64-bit check of a model: its int-capable fields, then its flat attributes."""
    values = model.__dict__
    for name in int_fields(type(model)):
        _check_fits(name, values[name])
    if attrs:
        check_int64(attrs)


#: The longest property (attribute) name accepted. Neo4j keeps every property name as a token
#: for the life of the database, so names are meant to be short identifiers, not data.
MAX_KEY_LENGTH = 255


def printable(text: str) -> str:
    """`text` with control characters (and lone surrogates) escaped, for error messages: a
    raw NUL or escape sequence must not reach a terminal or a log."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


def _encodable(text: str) -> bool:
    """True when `text` can be sent to Neo4j as UTF-8 (no lone surrogate, as JSON may hold)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def key_issue(key: object) -> str | None:
    """Why a property name cannot be stored, or None: Neo4j refuses empty names and NUL bytes,
    the driver cannot send lone surrogates, and pboss caps the length (MAX_KEY_LENGTH)."""
    if not isinstance(key, str):
        return "property names must be strings"
    if not key:
        return "property names must not be empty"
    if "\x00" in key:
        return f"property name {key!r} contains a NUL character"
    if len(key) > MAX_KEY_LENGTH:
        return f"property names must be at most {MAX_KEY_LENGTH} characters, not {len(key)}"
    if not _encodable(key):
        return f"property name {key!r} is not valid Unicode (a lone surrogate)"
    return None


def _scalar_issue(value: Any) -> str | None:
    """Why one scalar cannot be stored, or None (strings must encode, ints fit 64 bits)."""
    if isinstance(value, bool | float):
        return None
    if isinstance(value, int):
        low, high = INT64
        if not low <= value <= high:
            return f"{value} does not fit in a 64-bit signed integer"
        return None
    if isinstance(value, str):
        return None if _encodable(value) else "text is not valid Unicode (a lone surrogate)"
    if isinstance(value, dict):
        return "a nested object cannot be stored; use flat keys"
    if isinstance(value, list):
        return "a list inside a list cannot be stored"
    return f"a {type(value).__name__} cannot be stored"


def value_issue(value: Any) -> str | None:
    """Why a raw input value cannot be stored as a Neo4j property, or None (None itself is left
    to the model: it means "not set" for fields). Neo4j stores scalars and lists of one scalar
    type without nulls; ints and floats may mix (the model makes them floats)."""
    if not isinstance(value, list):
        return None if value is None else _scalar_issue(value)
    kinds: set[str] = set()
    for item in value:
        if item is None:
            return "a list cannot hold null"
        why = _scalar_issue(item)
        if why:
            return f"list item: {why}"
        kinds.add("number" if isinstance(item, int | float) and not isinstance(item, bool)
                  else type(item).__name__)  # fmt: skip
    if len(kinds) > 1:
        return f"a list must hold one type of value, not {' and '.join(sorted(kinds))}"
    return None


def _attr_keys_storable(keys: Iterable[object]) -> None:
    """Refuse attribute names Neo4j (or the driver) cannot store, naming the first bad one."""
    for key in keys:
        why = key_issue(key)
        if why:
            raise ValueError(why)


class Category(StrEnum):
    """The broad label every node carries beside its kind (design.md §3)."""

    PLACE = "Place"
    PARTY = "Party"
    RESOURCE = "Resource"
    BUSINESS = "Business"
    PROVISIONING = "Provisioning"


class Element(BaseModel):
    """Fields every node has. Subclasses set `kind` and `category` and add their own fields."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, use_enum_values=True, validate_default=True
    )

    kind: ClassVar[str] = "Element"
    category: ClassVar[Category] = Category.RESOURCE

    id: str = Field(min_length=1, max_length=512)
    name: str = ""
    owner: str = SELF
    status: Status = Status.AVAILABLE
    site: str | None = None
    spec: str | None = None
    attrs: dict[str, AttrValue] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("id must not be blank")
        return v

    @field_validator("attrs")
    @classmethod
    def _attrs_do_not_shadow_fields(cls, v: dict[str, AttrValue]) -> dict[str, AttrValue]:
        if not v:
            return v
        clash = sorted(set(v) & (set(cls.model_fields) | {"kind"}))
        if clash:
            raise ValueError(f"attrs must not redefine fields {clash}")
        hidden = sorted(k for k in v if k.startswith("_") or not k)
        if hidden:
            raise ValueError(f"attribute names must not be empty or start with '_': {hidden}")
        _attr_keys_storable(v)
        return v

    @model_validator(mode="after")
    def _ints_fit_64_bits(self) -> Element:
        check_int_fields(self, self.attrs)
        return self

    def props(self) -> dict[str, Any]:
        """Flat properties as stored: fields (None dropped), `kind`, then attrs."""
        data = self.model_dump(exclude={"attrs"}, exclude_none=True)
        data["kind"] = self.kind
        data.update(self.attrs)
        return data

    @property
    def is_partner(self) -> bool:
        """True when a partner, not the operator, owns this element."""
        return self.owner != SELF


# ---- places and parties ---------------------------------------------------------------------


class Region(Element):
    """A district or administrative region."""

    kind: ClassVar[str] = "Region"
    category: ClassVar[Category] = Category.PLACE
    code: str | None = None


class Site(Element):
    """An exchange, street cabinet, office tower or housing estate."""

    kind: ClassVar[str] = "Site"
    category: ClassVar[Category] = Category.PLACE
    code: str | None = None
    site_type: Literal["exchange", "cabinet", "building", "estate", "customer_premises"] = (
        "building"
    )
    region: str | None = None
    address: str = ""
    households: int = Field(default=0, ge=0)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Customer(Element):
    """A household or an enterprise; its name, phone and address are personal data."""

    kind: ClassVar[str] = "Customer"
    category: ClassVar[Category] = Category.PARTY
    customer_type: Literal["household", "enterprise"] = "household"
    sla_tier: Literal["standard", "gold", "platinum"] = "standard"
    phone: str | None = None
    address: str | None = None


class Partner(Element):
    """Another operator whose resources pboss glues into the business view."""

    kind: ClassVar[str] = "Partner"
    category: ClassVar[Category] = Category.PARTY
    partner_type: Literal["leased_line", "cable", "other"] = "other"
    contract_id: str | None = None


# ---- GPON access ------------------------------------------------------------------------------


class OLT(Element):
    """Optical line terminal at an exchange."""

    kind: ClassVar[str] = "OLT"
    vendor: str | None = None
    model: str | None = None
    service_slots: int | None = Field(default=None, ge=1)


class PonPort(Element):
    """One PON port of an OLT; `max_split` is its split budget (ONTs it may serve)."""

    kind: ClassVar[str] = "PonPort"
    slot: int | None = Field(default=None, ge=0)
    port: int | None = Field(default=None, ge=0)
    max_split: int = Field(default=64, ge=1)


class Splitter(Element):
    """Optical splitter, stage 1 (fed by a PON port) or stage 2 (fed by a stage-1 port)."""

    kind: ClassVar[str] = "Splitter"
    stage: Literal[1, 2] = 1
    ratio: int = Field(default=8, ge=2, le=128)


class SplitterPort(Element):
    """One output of a splitter."""

    kind: ClassVar[str] = "SplitterPort"
    index: int = Field(default=0, ge=0)


class ONT(Element):
    """Optical network terminal at the customer's premises."""

    kind: ClassVar[str] = "ONT"
    ont_type: str | None = None
    serial: str | None = None


# ---- MSTP transport -----------------------------------------------------------------------------


class NE(Element):
    """An MSTP/SDH network element (ADM)."""

    kind: ClassVar[str] = "NE"
    ne_type: str | None = None
    vendor: str | None = None


class Port(Element):
    """A port of an NE: STM-N, E1, FE or GE."""

    kind: ClassVar[str] = "Port"
    rate: str | None = None
    index: int | None = Field(default=None, ge=0)


class TrunkSection(Element):
    """A trunk section (中继) between two NEs, with a capacity in VC-12 slots."""

    kind: ClassVar[str] = "TrunkSection"
    rate: str | None = None
    capacity_vc12: int = Field(default=63, ge=1)
    cost: float = Field(default=1.0, ge=0)


class PartnerLink(Element):
    """A segment leased from a partner between two of our sites, with a capacity and a contract."""

    kind: ClassVar[str] = "PartnerLink"
    rate: str | None = None
    capacity_vc12: int = Field(default=63, ge=1)
    cost: float = Field(default=3.0, ge=0)
    contract_id: str | None = None
    partner_circuit_code: str | None = None


class Circuit(Element):
    """A leased line of n × 2 Mb/s from an A-end to a Z-end over an ordered route."""

    kind: ClassVar[str] = "Circuit"
    bandwidth_2m: int = Field(default=1, ge=1)


class PartnerAccess(Element):
    """A partner's coverage at a site, known only as a pool of counts."""

    kind: ClassVar[str] = "PartnerAccess"
    technology: str = "cable"
    total: int = Field(default=0, ge=0)
    used: int = Field(default=0, ge=0)
    reserved: int = Field(default=0, ge=0)


# ---- business --------------------------------------------------------------------------------


class Service(Element):
    """A service instance a customer pays for; `product` is the catalog product it instantiates."""

    kind: ClassVar[str] = "Service"
    category: ClassVar[Category] = Category.BUSINESS
    product: str
    service_type: str | None = None


class Product(Element):
    """What CRM sells."""

    kind: ClassVar[str] = "Product"
    category: ClassVar[Category] = Category.BUSINESS
    technology: str | None = None
    lead_time_hours: int | None = Field(default=None, ge=0)


KINDS: dict[str, type[Element]] = {}


def register_kind(cls: type[Element]) -> type[Element]:
    """Add a kind to the model (other packages register theirs, e.g. provisioning's Order)."""
    KINDS[cls.kind] = cls
    return cls


for _cls in (
    Region, Site, Customer, Partner, OLT, PonPort, Splitter, SplitterPort, ONT, NE, Port,
    TrunkSection, PartnerLink, Circuit, PartnerAccess, Service, Product,
):  # fmt: skip
    register_kind(_cls)


class _StoredShape:
    """What `from_stored` needs of one kind: its class, field names, required fields, and a
    template holding the defaults (required fields and attrs as placeholders)."""

    __slots__ = ("cls", "fields", "required", "template")

    def __init__(self, cls: type[Element]):
        self.cls = cls
        self.fields = frozenset(cls.model_fields)
        self.required = frozenset(n for n, f in cls.model_fields.items() if f.is_required())
        # every field in order; required ones and attrs are placeholders `from_stored` overwrites
        defaults: dict[str, Any] = {
            n: None if f.is_required() or f.default_factory is not None else _plain(f.default)
            for n, f in cls.model_fields.items()
        }
        self.template = cls.model_construct(set(), **defaults)

    def build(self, data: dict[str, Any]) -> Element:
        """An element of this kind from stored field values (attrs included), as pydantic's
        `model_construct` builds one: defaults filled in, the given fields marked as set, nothing
        validated again. Made by `model_copy(update=...)` of the kind's template: the same model,
        without `model_construct`'s walk over every field (≈ 2.5 x cheaper)."""
        return self.template.model_copy(update=data)

    def build_many_with_attrs(
        self, rows: Iterable[Iterable[tuple[str, Any]]], fields_set: frozenset[str]
    ) -> list[Element]:
        """`build` of each row of (field, value) pairs with empty attrs; `fields_set` names
        exactly those fields and attrs (the fields set are the ones given)."""
        copy = self.template.model_copy
        out = []
        for pairs in rows:
            data = dict(pairs)
            data["attrs"] = {}
            out.append(copy(update=data))
        return out


def _plain(value: Any) -> Any:
    """A default as validation stores it (`use_enum_values`: an enum member becomes its value)."""
    return value.value if isinstance(value, Enum) else value


#: Kinds whose stored properties are their field values as they are (scalars, lists of scalars):
#: `from_stored` rebuilds them without validating again. Kinds registered later (provisioning's,
#: whose timestamps are stored as strings) are not in it and are always validated.
STORED_AS_IS: dict[str, _StoredShape] = {kind: _StoredShape(cls) for kind, cls in KINDS.items()}


# ---- edges -------------------------------------------------------------------------------------


class EdgeType(StrEnum):
    """Relationship types. The first seven carry failure: the source fails if the target fails."""

    PART_OF = "PART_OF"
    FED_BY = "FED_BY"
    TERMINATES = "TERMINATES"
    A_END = "A_END"
    Z_END = "Z_END"
    ROUTED_OVER = "ROUTED_OVER"
    USES = "USES"
    FOR = "FOR"
    HOLDS = "HOLDS"
    FOR_ORDER = "FOR_ORDER"
    MOVES = "MOVES"


#: Edge types a source has at most one of: one upstream feed, one parent, one A-end, one Z-end,
#: and one customer (a service, or an order, is sold to one customer account).
SINGLE_UPSTREAM = frozenset({"PART_OF", "FED_BY", "A_END", "Z_END", "FOR"})

FAILURE_EDGES: tuple[str, ...] = (
    "PART_OF",
    "FED_BY",
    "TERMINATES",
    "A_END",
    "Z_END",
    "ROUTED_OVER",
    "USES",
)

#: Which kinds each edge type may join (from the dependent, to what it depends on).
EDGE_RULES: dict[str, set[tuple[str, str]]] = {
    "PART_OF": {("PonPort", "OLT"), ("SplitterPort", "Splitter"), ("Port", "NE")},
    "FED_BY": {("Splitter", "PonPort"), ("Splitter", "SplitterPort"), ("ONT", "SplitterPort")},
    "TERMINATES": {
        ("TrunkSection", "Port"),
        ("TrunkSection", "NE"),
        ("PartnerLink", "NE"),  # handed over at our NE, as partner feeds say it
    },
    "A_END": {("Circuit", "Port")},
    "Z_END": {("Circuit", "Port")},
    "ROUTED_OVER": {("Circuit", "TrunkSection"), ("Circuit", "PartnerLink")},
    "USES": {("Service", "ONT"), ("Service", "Circuit"), ("Service", "PartnerAccess")},
    "FOR": {("Service", "Customer")},
    "HOLDS": set(),
    "FOR_ORDER": set(),
    "MOVES": set(),  # a cutover plan to what it moves (pboss.cutover), no impact follows it
}


#: A link (trunk section or partner link) has this many ends: `TERMINATES` edges leaving it.
LINK_ENDS = 2


def allow_edge(edge_type: str, from_kind: str, to_kind: str) -> None:
    """Allow one more (type, from, to) combination; used by packages that add kinds."""
    EDGE_RULES.setdefault(edge_type, set()).add((from_kind, to_kind))


class Edge(BaseModel):
    """A directed relationship, unique by (type, src, dst); ROUTED_OVER carries seq and slots."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    type: str
    src: str = Field(min_length=1)
    dst: str = Field(min_length=1)
    seq: int | None = Field(default=None, ge=1)
    slots: list[int] | None = None
    attrs: dict[str, AttrValue] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in EDGE_RULES:
            raise ValueError(f"unknown edge type {v!r}; known: {sorted(EDGE_RULES)}")
        return v

    @field_validator("attrs")
    @classmethod
    def _attr_names_storable(cls, v: dict[str, AttrValue]) -> dict[str, AttrValue]:
        if v:
            _attr_keys_storable(v)
        return v

    @model_validator(mode="after")
    def _ints_fit_64_bits(self) -> Edge:
        check_int_fields(self, self.attrs)
        return self

    @classmethod
    def from_props(cls, edge_type: str, src: str, dst: str, props: Mapping[str, Any]) -> Edge:
        """Rebuild an edge from stored relationship properties."""
        extra = {k: v for k, v in props.items() if k not in ("seq", "slots")}
        return cls(
            type=edge_type,
            src=src,
            dst=dst,
            seq=props.get("seq"),
            slots=props.get("slots"),
            attrs=extra,
        )

    @property
    def key(self) -> tuple[str, str, str]:
        """The edge's identity."""
        return (self.type, self.src, self.dst)

    def props(self) -> dict[str, Any]:
        """Flat relationship properties as stored."""
        data: dict[str, Any] = dict(self.attrs)
        if self.seq is not None:
            data["seq"] = self.seq
        if self.slots is not None:
            data["slots"] = list(self.slots)
        return data

    def label(self) -> str:
        """How an error message names this edge."""
        return f"{self.type}({self.src!r} -> {self.dst!r})"


def edge_rule_issue(edge: Edge, from_kind: str, to_kind: str) -> str | None:
    """Why the model refuses this edge between these kinds, or None when it is allowed."""
    if (from_kind, to_kind) in EDGE_RULES[edge.type]:
        if edge.type == "ROUTED_OVER" and (edge.seq is None or not edge.slots):
            return "ROUTED_OVER needs seq and a non-empty list of VC-12 slots"
        return None
    allowed = sorted(f"{a}->{b}" for a, b in EDGE_RULES[edge.type]) or ["none"]
    return f"{edge.type} cannot join {from_kind} -> {to_kind} (allowed: {', '.join(allowed)})"


# ---- parsing raw input -------------------------------------------------------------------------


def _issues_from(exc: ValidationError, item: str, index: int | None) -> list[Issue]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or None
        out.append(Issue(item=item, field=loc, reason=err["msg"], index=index))
    return out


def parse_node(raw: Mapping[str, Any], index: int | None = None) -> Element | list[Issue]:
    """Build a typed node from a mapping with a `kind`, or return the issues that prevent it."""
    rid = raw.get("id")
    item = f"node {rid!r}" if rid else "node"
    kind = raw.get("kind")
    if not kind:
        return [Issue(item=item, field="kind", reason="missing kind", index=index)]
    cls = KINDS.get(str(kind))
    if cls is None:
        reason = f"unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}"
        return [Issue(item=item, field="kind", reason=reason, index=index)]
    if not rid:
        return [Issue(item=item, field="id", reason="missing id", index=index)]
    data = {k: v for k, v in raw.items() if k != "kind"}
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        return _issues_from(exc, f"{kind} {rid!r}", index)


def parse_edge(raw: Mapping[str, Any], index: int | None = None) -> Edge | list[Issue]:
    """Build an edge from a mapping, or return the issues that prevent it."""
    item = f"edge {raw.get('type')}({raw.get('src')!r} -> {raw.get('dst')!r})"
    try:
        return Edge.model_validate(dict(raw))
    except ValidationError as exc:
        return _issues_from(exc, item, index)


def from_props(props: Mapping[str, Any]) -> Element:
    """Rebuild a typed node from stored flat properties (attrs are the keys no field claims)."""
    cls = KINDS[props["kind"]]
    fields = set(cls.model_fields)
    data: dict[str, Any] = {k: v for k, v in props.items() if k in fields}
    data["attrs"] = {
        k: v for k, v in props.items() if k not in fields and k != "kind" and not k.startswith("_")
    }
    return cls.model_validate(data)


def from_stored(props: Mapping[str, Any]) -> Element:
    """Rebuild a node from the properties a store wrote, for hot read paths (riders, site views,
    traces). Every write validated them, so a core kind is rebuilt the way pydantic's
    `model_construct` does it, without validating again (several times cheaper); other kinds, and
    properties missing a required field, go through `from_props`. `_` keys are dropped."""
    shape = STORED_AS_IS.get(props["kind"])
    if shape is None:
        return from_props({k: v for k, v in props.items() if not k.startswith("_")})
    fields = shape.fields
    data: dict[str, Any] = {}
    attrs: dict[str, Any] = {}
    for k, v in props.items():
        if k in fields:
            data[k] = v
        elif k != "kind" and k[:1] != "_":
            attrs[k] = v
    if not shape.required <= data.keys():
        return from_props({k: v for k, v in props.items() if not k.startswith("_")})
    data["attrs"] = attrs
    return shape.build(data)
