"""The site map as SVG, drawn from the sites' own coordinates (no tile server, no web fonts).

Sites are projected equirectangularly around the network's mean latitude (longitude scaled by its
cosine, so a kilometre is as long east-west as north-south: a metro is a few tens of km wide, where
this is as good as any map projection). Availability is shown by shape AND colour (filled circle
qualified, diamond alternate, square unqualified, hollow circle not shown to this role) and open
incidents by a purple ring with a count, so the picture reads without colour too. Each site is an
SVG link (`<a href>`), reachable with the keyboard, with an accessible label saying all of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

#: Availability classes in legend order: (key, label, colour). Colours pass AA on white.
CLASSES: tuple[tuple[str, str, str], ...] = (
    ("qualified", "qualified: our own network delivers it", "#1a7f37"),
    ("alternate", "alternate: only via a partner or another product", "#9a6700"),
    ("unqualified", "unqualified: cannot be sold here", "#b42318"),
    ("hidden", "availability not shown to this role", "#57606a"),
    ("pending", "availability being computed", "#57606a"),
)
COLOURS = {key: colour for key, _, colour in CLASSES}
INCIDENT_COLOUR = "#6f2dbd"
#: Marker radius by site type (exchanges stand out, premises stay small on a dense map).
RADIUS = {"exchange": 7.0, "cabinet": 4.0, "building": 4.5, "estate": 5.0}
DEFAULT_RADIUS = 3.5
WIDTH = 960
MAX_MAP_HEIGHT = 640
PAD = 28
LEGEND_HEIGHT = 104
#: Exchanges are labelled by name while the map holds at most this many sites (else the labels
#: pile up: a whole `medium` metro is 16 dense districts); regions are labelled instead.
MAX_LABELLED_SITES = 400


@dataclass(frozen=True)
class MapSite:
    """One site as the map draws it."""

    id: str
    name: str
    site_type: str
    lat: float | None
    lon: float | None
    availability: str  # a key of COLOURS
    free: int | None  # free capacity for the product (None: not shown)
    incidents: int  # open incidents naming the site
    region: str | None = None

    @property
    def located(self) -> bool:
        """True when the site has both coordinates."""
        return self.lat is not None and self.lon is not None

    def label(self) -> str:
        """What a screen reader (and the tooltip) says about the site."""
        said = {
            "hidden": "availability not shown",
            "pending": "availability being computed",
        }.get(self.availability, self.availability)
        parts = [f"{self.name} ({self.id}), {self.site_type}", said]
        if self.free is not None:
            parts.append(f"{self.free} free")
        if self.incidents:
            parts.append(f"{self.incidents} open incident{'s' if self.incidents != 1 else ''}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Projection:
    """Degrees to SVG pixels for one set of sites."""

    lat0: float
    lon0: float
    lat_max: float
    scale: float  # pixels per projected degree
    x0: float
    y0: float
    width: float
    height: float

    def point(self, lat: float, lon: float) -> tuple[float, float]:
        """Pixel position of a coordinate."""
        x = self.x0 + (lon - self.lon0) * math.cos(math.radians(self.lat0)) * self.scale
        y = self.y0 + (self.lat_max - lat) * self.scale
        return round(x, 1), round(y, 1)

    def km_per_pixel(self) -> float:
        """Ground distance of one pixel (a degree of latitude is 111.32 km)."""
        return 111.32 / self.scale


def project(sites: Sequence[MapSite], width: int = WIDTH) -> Projection:
    """The projection that fits every located site into `width` pixels (height follows)."""
    located = [s for s in sites if s.located]
    if not located:
        return Projection(0.0, 0.0, 0.0, 1.0, PAD, PAD, width, 240)
    lats = [s.lat for s in located if s.lat is not None]
    lons = [s.lon for s in located if s.lon is not None]
    lat0 = (min(lats) + max(lats)) / 2
    cos0 = math.cos(math.radians(lat0))
    dx = (max(lons) - min(lons)) * cos0
    dy = max(lats) - min(lats)
    inner_w, inner_h = width - 2 * PAD, MAX_MAP_HEIGHT - 2 * PAD
    if dx == 0 and dy == 0:
        scale = 2000.0  # one place: any scale; ~0.06 km a pixel
    else:
        scale = min(inner_w / dx if dx else math.inf, inner_h / dy if dy else math.inf)
    height = max(dy * scale + 2 * PAD, 240)
    x0 = PAD + (inner_w - dx * scale) / 2
    y0 = (height - dy * scale) / 2
    return Projection(lat0, min(lons), max(lats), scale, x0, y0, width, height)


def _marker(kind: str, x: float, y: float, r: float, extra: str = "") -> str:
    """The shape of an availability class at (x, y)."""
    colour = COLOURS[kind]
    if kind == "qualified":
        return f'<circle cx="{x}" cy="{y}" r="{r}" fill="{colour}" stroke="#fff"{extra}/>'
    if kind == "alternate":
        d = r * 1.3
        pts = f"{x},{y - d} {x + d},{y} {x},{y + d} {x - d},{y}"
        return f'<polygon points="{pts}" fill="{colour}" stroke="#fff"{extra}/>'
    if kind == "unqualified":
        s = r * 1.7
        return (
            f'<rect x="{round(x - s / 2, 1)}" y="{round(y - s / 2, 1)}" width="{round(s, 1)}" '
            f'height="{round(s, 1)}" fill="{colour}" stroke="#fff"{extra}/>'
        )
    if kind == "pending":
        s = r * 1.6
        return (
            f'<rect x="{round(x - s / 2, 1)}" y="{round(y - s / 2, 1)}" width="{round(s, 1)}" '
            f'height="{round(s, 1)}" fill="#fff" stroke="{colour}" stroke-width="1.5" '
            f'stroke-dasharray="2 1.5"{extra}/>'
        )
    return (
        f'<circle cx="{x}" cy="{y}" r="{r}" fill="#fff" stroke="{colour}" stroke-width="2"{extra}/>'
    )


def _nice_km(km: float) -> float:
    """A round length near `km` for the scale bar."""
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500):
        if step >= km:
            return step
    return 1000.0


def _legend(top: float, width: int, counts: dict[str, int]) -> list[str]:
    """The legend band: every class's shape, words and count, and the incident ring."""
    out = [
        f'<g class="legend" transform="translate(0,{round(top, 1)})">',
        f'<rect x="0" y="0" width="{width}" height="{LEGEND_HEIGHT}" fill="#f6f8fa"/>',
    ]
    col_w = width / 2
    shown = [c for c in CLASSES if c[0] != "pending" or counts.get("pending")]
    for i, (key, label, _) in enumerate(shown):
        x = 20 + (i % 2) * col_w
        y = 22 + (i // 2) * 28
        out.append(_marker(key, x, y, 7))
        out.append(
            f'<text x="{x + 18}" y="{y + 6}" font-size="16" fill="#1f2328">'
            f"{escape(label)} ({counts.get(key, 0)})</text>"
        )
    x = 20 + (len(shown) % 2) * col_w
    y = 22 + (len(shown) // 2) * 28
    out.append(
        f'<circle cx="{x}" cy="{y}" r="10" fill="none" stroke="{INCIDENT_COLOUR}" '
        f'stroke-width="3"/><text x="{x + 18}" y="{y + 6}" font-size="16" fill="#1f2328">'
        f"ring and count: open incidents (sites: {counts.get('incident', 0)})</text>"
    )
    out.append("</g>")
    return out


def _region_labels(
    located: Sequence[MapSite],
    proj: Projection,
    names: dict[str, str],
    href: Callable[[str], str] | None,
) -> list[str]:
    """Each region's name and site count at the centre of its sites (a link to zoom in)."""
    groups: dict[str, list[MapSite]] = {}
    for s in located:
        if s.region:
            groups.setdefault(s.region, []).append(s)
    out = ['<g class="regions">']
    for region, members in sorted(groups.items()):
        lat = sum(m.lat or 0.0 for m in members) / len(members)
        lon = sum(m.lon or 0.0 for m in members) / len(members)
        x, y = proj.point(lat, lon)
        text = f"{names.get(region, region)} · {len(members)}"
        label = (
            f'<text x="{x}" y="{round(y - 30, 1)}" text-anchor="middle" font-size="13" '
            f'font-weight="700" fill="#0d2538" stroke="#fff" stroke-width="4" '
            f'paint-order="stroke">{escape(text)}</text>'
        )
        if href is not None:
            said = f"Zoom into {names.get(region, region)} ({len(members)} sites)"
            label = (
                f'<a class="region" href="{escape(href(region))}" data-region="{escape(region)}" '
                f'aria-label="{escape(said)}">{label}</a>'
            )
        out.append(label)
    out.append("</g>")
    return out


def draw_map(
    sites: Sequence[MapSite],
    href: Callable[[str], str],
    title: str,
    selected: str | None = None,
    width: int = WIDTH,
    regions: dict[str, str] | None = None,
    region_href: Callable[[str], str] | None = None,
) -> str:
    """The map of every located site, each a link to `href(site id)`, with its legend; on a map
    too dense to name exchanges, each region is named at its centre (a link to `region_href`)."""
    proj = project(sites, width)
    located = [s for s in sites if s.located]
    counts: dict[str, int] = {}
    for s in located:
        counts[s.availability] = counts.get(s.availability, 0) + 1
        if s.incidents:
            counts["incident"] = counts.get("incident", 0) + 1
    total_h = round(proj.height + LEGEND_HEIGHT, 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="site-map" role="group" '
        f'viewBox="0 0 {width} {total_h}" width="{width}" height="{total_h}" '
        f'font-family="system-ui, &quot;Noto Sans CJK SC&quot;, &quot;WenQuanYi Zen Hei&quot;, '
        f'sans-serif" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{round(proj.height, 1)}" fill="#fbfcfd" '
        'stroke="#d0d7de"/>',
    ]
    if not located:
        out.append(
            f'<text x="{width / 2}" y="120" text-anchor="middle" font-size="15" fill="#57606a">'
            "No site here has coordinates: see the list beside the map.</text>"
        )
    else:
        bar_km = _nice_km(proj.km_per_pixel() * 120)
        bar_px = round(bar_km / proj.km_per_pixel(), 1)
        y = round(proj.height - 12, 1)
        out.append(
            f'<g class="scale" aria-hidden="true"><line x1="12" y1="{y}" x2="{12 + bar_px}" '
            f'y2="{y}" stroke="#1f2328" stroke-width="2"/><text x="12" y="{y - 5}" '
            f'font-size="11" fill="#1f2328">{bar_km:g} km</text>'
            f'<text x="{width - 12}" y="16" font-size="11" text-anchor="end" fill="#57606a">'
            "N ↑</text></g>"
        )
    label_them = len(located) <= MAX_LABELLED_SITES
    order = sorted(
        located, key=lambda s: (s.id == selected, s.incidents > 0, s.site_type == "exchange")
    )
    out.append('<g class="sites">')
    for s in order:
        x, y = proj.point(s.lat or 0.0, s.lon or 0.0)
        r = RADIUS.get(s.site_type, DEFAULT_RADIUS)
        label = s.label()
        attrs = (
            f'class="site" href="{escape(href(s.id))}" data-site="{escape(s.id)}" '
            f'data-availability="{s.availability}" data-incidents="{s.incidents}" '
            f'aria-label="{escape(label)}"'
        )
        if s.id == selected:
            attrs += ' aria-current="true"'
        parts = [f"<a {attrs}><title>{escape(label)}</title>"]
        if s.id == selected:
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="{r + 9}" fill="none" stroke="#1f2328" '
                'stroke-width="2" stroke-dasharray="3 2"/>'
            )
        parts.append(_marker(s.availability, x, y, r))
        if s.incidents:
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="{r + 4}" fill="none" stroke="{INCIDENT_COLOUR}" '
                f'stroke-width="3"/><text x="{round(x + r + 5, 1)}" y="{round(y - r - 2, 1)}" '
                f'font-size="11" font-weight="700" fill="{INCIDENT_COLOUR}">{s.incidents}</text>'
            )
        if label_them and s.site_type == "exchange":
            parts.append(
                f'<text x="{round(x + r + 3, 1)}" y="{round(y + 4, 1)}" font-size="11" '
                f'fill="#1f2328" stroke="#fff" stroke-width="3" paint-order="stroke">'
                f"{escape(s.name)}</text>"
            )
        parts.append("</a>")
        out.append("".join(parts))
    out.append("</g>")
    if not label_them:
        out.extend(_region_labels(located, proj, regions or {}, region_href))
    out.extend(_legend(proj.height, width, counts))
    out.append("</svg>")
    return "\n".join(out)
