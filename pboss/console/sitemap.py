"""The site map page (`/ui/map`): every site at its coordinates, by availability for a chosen
product and by open incidents, sites without coordinates listed beside; a site's detail (its
business resources with free capacity, its availability and open incidents) asked through the
GraphQL API, so a partner key sees exactly what the API lets it. `/ui/map.svg` is the picture
alone, for other tools to embed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pboss.console.ask import ask, context_for
from pboss.console.render import page, svg
from pboss.console.sitemap_data import (
    OPEN_STATES,
    MapData,
    UnknownRegion,
    catalog_products,
    map_data,
)
from pboss.console.sitemap_svg import CLASSES, MapSite, draw_map

router = APIRouter()

SITE_DETAIL = """
query MapSite($site: ID!, $at: String!, $product: String, $states: [IncidentState!]) {
  element(id: $site) {
    __typename
    ... on Site { id name code siteType address households lat lon regionId owner status }
    ... on NotFound { message }
  }
  availability(site: $site, product: $product) {
    __typename
    ... on Availability {
      qualificationResult reasons
      options { product { id name } network selfBuilt freeCapacity leadTimeHours
                partner { id name } }
    }
    ... on Error { message }
  }
  businessResources(site: $site) {
    __typename
    ... on BusinessResources {
      packages { id name rule owner isPartner capacity used free health reasons
                 sells { id } partner { id name } }
    }
    ... on Error { message }
  }
  incidents(site: $at, states: $states, first: 50) {
    totalCount edges { node { id state priority suspected createdAt } }
  }
}
"""


class BadMapRequest(Exception):
    """A map parameter the page cannot use: said on the page, with a 4xx status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _product_of(request: Request, product: str | None) -> tuple[str, list[Any]]:
    """The product to colour by (the catalog's first by default) and the catalog's products."""
    products = catalog_products(request)
    if not products:
        raise BadMapRequest(400, "The catalog has no products to colour the map by.")
    if product is None or product == "":
        return products[0].id, products
    if product not in {p.id for p in products}:
        known = ", ".join(p.id for p in products)
        raise BadMapRequest(400, f"Unknown product {product!r}: the catalog has {known}.")
    return product, products


def _href(product: str, region: str | None) -> Callable[[str], str]:
    """The link of a site on the map for `product` (in `region`)."""
    zoom = {"region": region} if region else {}
    return lambda site_id: "/ui/map?" + urlencode({"site": site_id, "product": product, **zoom})


def _region_href(product: str) -> Callable[[str], str]:
    """The link that zooms the map into a region."""
    return lambda region: "/ui/map?" + urlencode({"product": product, "region": region})


def _title(product: str) -> str:
    return f"Sites by availability of {product} and open incidents"


async def _picture(
    request: Request, product: str, selected: str | None, region: str | None
) -> tuple[MapData, str]:
    """The map's data and its SVG for `product` (in `region`), with `selected` highlighted;
    UnknownRegion for a region the caller has no site in."""
    data = await map_data(request, context_for(request), product, region)
    picture = draw_map(
        data.sites,
        _href(product, region),
        _title(product) + (f" in {data.regions[region]}" if region else ""),
        selected,
        regions=data.regions,
        region_href=_region_href(product),
    )
    return data, picture


@router.get("/ui/map.svg")
async def map_svg(
    request: Request, product: str | None = None, region: str | None = None
) -> Response:
    """The map alone as SVG (for embedding); `?download=1` offers it as a file."""
    context_for(request)  # LoginRequired first
    try:
        chosen, _ = _product_of(request, product)
        _, body = await _picture(request, chosen, None, region or None)
    except BadMapRequest as bad:
        return Response(bad.message, status_code=bad.status, media_type="text/plain")
    except UnknownRegion as bad:
        return Response(str(bad), status_code=400, media_type="text/plain")
    name = f"site-map-{chosen}.svg" if request.query_params.get("download") else None
    return svg(body, name)


def _counts(sites: list[MapSite]) -> list[tuple[str, str, int]]:
    """Per availability class: (key, label, sites), for the summary beside the map."""
    return [
        (key, label, sum(1 for s in sites if s.availability == key)) for key, label, _ in CLASSES
    ]


@router.get("/ui/map")
async def site_map(
    request: Request,
    product: str | None = None,
    site: str | None = None,
    region: str | None = None,
) -> Response:
    """The map, its legend and summary, the sites without coordinates, and a site's detail."""
    context_for(request)  # LoginRequired first
    try:
        chosen, products = _product_of(request, product)
    except BadMapRequest as bad:
        return page(
            request,
            "sitemap.html",
            "Site map",
            status_code=bad.status,
            problem=bad.message,
            products=catalog_products(request),
            product=product,
        )
    region = region or None
    try:
        data, picture = await _picture(request, chosen, site or None, region)
    except UnknownRegion as bad:
        return page(
            request,
            "sitemap.html",
            "Site map",
            status_code=400,
            problem=str(bad),
            products=products,
            product=chosen,
        )
    detail: dict[str, Any] | None = None
    status = 200
    problem = None
    if site:
        detail = await ask(
            request,
            SITE_DETAIL,
            {"site": site, "at": site, "product": chosen, "states": OPEN_STATES},
        )
        element = detail["element"]
        if element["__typename"] != "Site":
            status = 404
            problem = f"No site {site!r} that this key may see."
            detail = None
    return page(
        request,
        "sitemap.html",
        "Site map",
        status_code=status,
        problem=problem,
        products=products,
        product=chosen,
        picture=picture,
        data=data,
        counts=_counts(data.sites),
        unlocated=[s for s in data.sites if not s.located],
        located=sum(1 for s in data.sites if s.located),
        with_incidents=[s for s in data.sites if s.incidents],
        detail=detail,
        href=_href(chosen, region),
        pending=sum(1 for s in data.sites if s.availability == "pending"),
        age=round(data.availability_age_s),
        reload=str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
        region=region,
        regions=data.regions,
        svg_link="/ui/map.svg?"
        + urlencode({"product": chosen, "download": "1", **({"region": region} if region else {})}),
    )
