"""The search page, `/ui/search?q=…`: one box for element ids, names, circuit ids, Chinese
addresses and phone numbers, answered from the API in the caller's context and grouped by kind.

One GraphQL document asks `elements(text:)` (ids, names, codes, addresses; a customer's phone for
the roles that see phones, `permissions.sees_phones`, the resolver's own rule), the same again with
the address in the loaders' canonical form (`normalise_address`: city and district dropped, 號/幢
folded) when that differs, and `sites(query:)`, the normalised site index availability resolves
addresses with. Each result links to its page: trace for circuits, services and customers, impact
for network resources, the site map for sites. A partner key gets what the API gives it: no
customers, only its own resources.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pboss.console.ask import ask, caller
from pboss.console.render import page
from pboss.console.trace_svg import partner_colour
from pboss.console.validate import check_text
from pboss.graphql.inventory.queries import phone_digits
from pboss.graphql.permissions import sees_phones
from pboss.loaders.feeds.address import normalise_address

router = APIRouter()

#: Elements one search fetches (per text form) and sites it lists.
MAX_ELEMENTS = 200
MAX_SITES = 50

ELEMENT_FIELDS = """
fragment Found on Element {
  id kind name status owner isPartner
  site { id name }
  partner { id name }
  ... on Customer { phone address customerType slaTier }
  ... on Service { product }
  ... on Site { code siteAddress: address siteType }
}
"""


@dataclass(frozen=True)
class Group:
    """A kind of result: its heading, the kinds it holds and the page its items open."""

    key: str
    heading: str
    kinds: frozenset[str] | None  # None: every kind no other group takes
    link: str | None  # the page path with `{}` for the quoted id, or None


GROUPS = (
    Group("circuits", "Circuits", frozenset({"Circuit"}), "/ui/trace?id={}"),
    Group("services", "Services", frozenset({"Service"}), "/ui/trace?id={}"),
    Group("customers", "Customers", frozenset({"Customer"}), "/ui/trace?id={}"),
    Group("sites", "Sites", frozenset({"Site"}), "/ui/map?site={}"),
    Group("partners", "Partners", frozenset({"Partner"}), None),
    Group("others", "Regions, crews and products", frozenset({"Region", "Crew", "Product"}), None),
    Group("resources", "Network resources", None, "/ui/impact?id={}"),
)


@dataclass
class Hit:
    """One result as listed."""

    element: dict[str, Any]
    href: str | None
    rank: int

    @property
    def colour(self) -> str | None:
        """A partner's element in that partner's colour, as on the trace pictures."""
        owner = self.element.get("owner") or "self"
        return partner_colour(owner)[0] if owner != "self" else None


@dataclass
class Results:
    """What one search found, by group, with what the page says about it."""

    query: str
    groups: list[tuple[Group, list[Hit]]] = field(default_factory=list)
    total: int = 0
    notes: list[str] = field(default_factory=list)


def group_of(kind: str) -> Group:
    """The group a kind is listed under."""
    for group in GROUPS:
        if group.kinds is not None and kind in group.kinds:
            return group
    return GROUPS[-1]


def _rank(el: dict[str, Any], needle: str) -> int:
    """0 exact id, 1 exact name or code, 2 id prefix, 3 anything else."""
    ident, name = el["id"].casefold(), (el.get("name") or "").casefold()
    if ident == needle:
        return 0
    if name == needle or (el.get("code") or "").casefold() == needle:
        return 1
    return 2 if ident.startswith(needle) else 3


def _document(with_canonical: bool) -> str:
    canonical = (
        "canonical: elements(text: $canonical, first: $first) "
        "{ totalCount edges { node { ...Found } } }"
        if with_canonical
        else ""
    )
    params = "$text: String!, $query: String!, $first: Int!, $sites: Int!"
    if with_canonical:
        params += ", $canonical: String!"
    return (
        ELEMENT_FIELDS + f"query ConsoleSearch({params}) {{ "
        "elements(text: $text, first: $first) { totalCount edges { node { ...Found } } } "
        f"{canonical} "
        "sites(query: $query, first: $sites) { totalCount edges { node { ...Found } } } }"
    )


def canonical_address(text: str) -> str | None:
    """The address in the loaders' canonical form, when that differs from the text as typed and
    is worth searching (an address: some CJK text left after the city and district are dropped)."""
    canonical = normalise_address(text)
    plain = unicodedata.normalize("NFKC", text).casefold()
    if canonical == plain or len(canonical) < 2:
        return None
    if not any(unicodedata.east_asian_width(c) in "WF" for c in canonical):
        return None
    return canonical


async def search(request: Request, text: str) -> Results:
    """Everything this caller may see matching `text`, grouped and ranked."""
    plain = unicodedata.normalize("NFKC", text)
    canonical = canonical_address(text)
    variables: dict[str, Any] = {
        "text": plain,
        "query": text,
        "first": MAX_ELEMENTS,
        "sites": MAX_SITES,
    }
    if canonical:
        variables["canonical"] = canonical
    data = await ask(request, _document(canonical is not None), variables)
    results = Results(query=text)
    found: dict[str, dict[str, Any]] = {}
    site_order: dict[str, int] = {}
    for i, edge in enumerate(data["sites"]["edges"]):
        found[edge["node"]["id"]] = edge["node"]
        site_order[edge["node"]["id"]] = i
    for key in ("elements", "canonical"):
        for edge in (data.get(key) or {}).get("edges", []):
            found.setdefault(edge["node"]["id"], edge["node"])
    needle = plain.strip().casefold()
    by_group: dict[str, list[Hit]] = {g.key: [] for g in GROUPS}
    for el in found.values():
        group = group_of(el["kind"])
        href = group.link.format(quote(el["id"], safe="")) if group.link else None
        rank = _rank(el, needle)
        if el["id"] in site_order:  # the site index's own ranking, best first
            rank = min(rank, 1) * 1000 + site_order[el["id"]]
        else:
            rank = rank * 1000 + 999
        by_group[group.key].append(Hit(el, href, rank))
    for group in GROUPS:
        hits = sorted(by_group[group.key], key=lambda h: (h.rank, h.element["id"]))
        if hits:
            results.groups.append((group, hits))
    results.total = sum(len(h) for _, h in results.groups)
    truncated = [
        data[k]["totalCount"]
        for k in ("elements", "canonical")
        if data.get(k) and data[k]["totalCount"] > len(data[k]["edges"])
    ]
    if truncated or data["sites"]["totalCount"] > len(data["sites"]["edges"]):
        results.notes.append(
            f"More matches than shown (the first {MAX_ELEMENTS} elements and {MAX_SITES} sites "
            "are listed): type more of the id, name or address to narrow the search."
        )
    principal = caller(request)
    if phone_digits(text) and not sees_phones(principal):
        results.notes.append("Phone numbers are searched only for roles that may see customers.")
    if canonical:
        results.notes.append(f"The address was also compared as {canonical!r}.")
    return results


@router.get("/ui/search")
async def search_page(request: Request, q: str | None = None) -> Response:
    """The search box; with `q`, its results grouped by kind."""
    if q is None:
        return page(request, "search.html", "Search", results=None, problem=None, query="")
    text, problem = check_text(q, "search text")
    if problem:
        return page(
            request,
            "search.html",
            "Search",
            status_code=400,
            results=None,
            problem=problem,
            query="",
        )
    results = await search(request, text)
    return page(
        request, "search.html", f"Search: {text}", results=results, problem=None, query=text
    )
