"""Trace pictures drawn as SVG in Python: one row of hop boxes per traced circuit or service, left
to right (A-end → trunk sections → Z-end, or ONT → … → OLT), wrapped onto more lines when long.

Each hop box shows its role and kind, id, site, owner (a partner's segment in that partner's colour
and named), the slots or capacity it uses and its health; a faulty hop is red with its reason.
Every text is escaped; the picture has a <title>, a <desc> listing the hops and role="img", and
each hop is a `<g class="hop" data-id=… data-owner=… data-partner=… data-health=…>` so tools and
tests can find it. No script, no external reference: the SVG is safe to embed anywhere.
"""

from __future__ import annotations

import unicodedata
import zlib
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

#: Box size and spacing (px); a line holds at most `PER_LINE` boxes before it wraps.
BOX_W, BOX_H, GAP, MARGIN = 180, 112, 28, 16
PER_LINE = 6
ROW_TITLE_H, LINE_GAP = 30, 26
#: Text units (a CJK character counts two) that fit on one line of a box at 12 px (Latin
#: capitals and digits are about 7 px wide; a CJK character 12 px).
BOX_TEXT_UNITS = 23
FONT = (
    'system-ui, "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", '
    '"Microsoft YaHei", "PingFang SC", sans-serif'
)
#: Own network: neutral ink on white.
OWN_STROKE, OWN_FILL = "#57606a", "#ffffff"
#: Partners' colours (stroke and text, tint): AA contrast of the stroke colour on the tint.
PARTNER_COLOURS = (
    ("#6f42c1", "#f3effb"),
    ("#0e6e7e", "#e8f6f8"),
    ("#9a4a00", "#fdf1e6"),
    ("#a3245f", "#fbecf3"),
    ("#3f6a12", "#eff6e6"),
    ("#1f4fbf", "#eaf0fc"),
)
FAULTY_STROKE, FAULTY_FILL = "#b42318", "#fdecea"
DEGRADED_STROKE = "#9a6700"
INK, MUTED = "#1f2328", "#57606a"

#: How each hop role reads in the picture.
ROLE_LABELS = {
    "a_end": "A-end",
    "z_end": "Z-end",
    "trunk": "trunk",
    "circuit": "circuit",
    "ont": "ONT",
    "splitter_port": "splitter port",
    "splitter": "splitter",
    "pon_port": "PON port",
    "olt": "OLT",
    "partner_access": "partner access",
    "port": "port",
    "ne": "NE",
}


@dataclass(frozen=True)
class HopBox:
    """One hop as drawn: what it is, where, whose, what it uses, how healthy and why."""

    id: str
    kind: str
    role: str
    site: str | None
    owner: str
    partner_name: str | None
    status: str
    slots: tuple[int, ...] | None = None
    capacity: int | None = None
    used: int | None = None
    health: str = "ok"  # ok, degraded or faulty
    reasons: tuple[str, ...] = ()
    name: str | None = None

    @property
    def place_label(self) -> str:
        """Where it is: its site's name, else (a trunk section, a link) its own name."""
        if self.site:
            return self.site
        if self.name and self.name != self.id:
            return self.name
        return "site —"

    @property
    def is_partner(self) -> bool:
        """True when a partner, not the operator, owns this hop."""
        return self.owner != "self"

    @property
    def owner_label(self) -> str:
        """Who owns it, as a person reads it: the partner's name, or our own network."""
        if not self.is_partner:
            return "own network"
        return self.partner_name or self.owner

    @property
    def colour(self) -> str:
        """The colour its owner is drawn in (a partner's own colour, else neutral ink)."""
        return partner_colour(self.owner)[0] if self.is_partner else OWN_STROKE

    @property
    def use_label(self) -> str:
        """The slots the traced line takes here, or the capacity use of a pool."""
        if self.slots:
            return "slots " + ",".join(str(s) for s in self.slots)
        if self.capacity is not None and self.used is not None:
            return f"used {self.used}/{self.capacity}"
        return ""


@dataclass(frozen=True)
class TraceRow:
    """One traced circuit or service: a heading and its hops in path order."""

    id: str
    heading: str
    health: str
    hops: tuple[HopBox, ...]


@dataclass(frozen=True)
class TracePicture:
    """What one trace picture shows: a title and one row per circuit or service."""

    title: str
    rows: tuple[TraceRow, ...]
    notes: tuple[str, ...] = field(default=())


def partner_colour(partner: str) -> tuple[str, str]:
    """A partner's stroke and tint, the same on every picture (picked by a stable hash)."""
    return PARTNER_COLOURS[zlib.crc32(partner.encode()) % len(PARTNER_COLOURS)]


def text_units(text: str) -> int:
    """How wide a text draws, in half-width units (CJK and full-width characters count two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def clip(text: str, units: int = BOX_TEXT_UNITS) -> str:
    """The text cut with an ellipsis to fit `units` (whole characters, never half a CJK one)."""
    if text_units(text) <= units:
        return text
    out, width = [], 0
    for c in text:
        w = text_units(c)
        if width + w > units - 1:
            break
        out.append(c)
        width += w
    return "".join(out) + "…"


def _text(x: float, y: float, body: str, **attrs: str) -> str:
    extra = "".join(f" {k.rstrip('_').replace('_', '-')}={quoteattr(v)}" for k, v in attrs.items())
    return f'<text x="{x:.0f}" y="{y:.0f}"{extra}>{escape(body)}</text>'


def _colours(hop: HopBox) -> tuple[str, str]:
    if hop.health == "faulty":
        return FAULTY_STROKE, FAULTY_FILL
    if hop.is_partner:
        return partner_colour(hop.owner)
    return (DEGRADED_STROKE if hop.health == "degraded" else OWN_STROKE), OWN_FILL


def role_line(hop: HopBox) -> str:
    """The box's first line: its role on the path and its kind (once when they say the same)."""
    role = ROLE_LABELS.get(hop.role, hop.role)
    if role.replace(" ", "").casefold() == hop.kind.casefold():
        return hop.kind
    return f"{role} · {hop.kind}"


def hop_description(hop: HopBox) -> str:
    """The hop in one line of words (the box's tooltip and the picture's description)."""
    parts = [f"{ROLE_LABELS.get(hop.role, hop.role)} {hop.kind} {hop.id}"]
    if hop.site:
        parts.append(f"at {hop.site}")
    parts.append(f"owner {hop.owner_label}")
    if hop.use_label:
        parts.append(hop.use_label)
    parts.append(hop.status)
    if hop.reasons:
        parts.append("; ".join(hop.reasons))
    return ", ".join(parts)


def _hop(hop: HopBox, position: int, x: float, y: float) -> str:
    stroke, fill = _colours(hop)
    width = "3" if hop.health == "faulty" or hop.is_partner else "1.5"
    dash = ' stroke-dasharray="6 3"' if hop.health == "degraded" else ""
    attrs = {
        "class": "hop",
        "data-id": hop.id,
        "data-kind": hop.kind,
        "data-role": hop.role,
        "data-position": str(position),
        "data-owner": hop.owner,
        "data-partner": hop.owner_label if hop.is_partner else "",
        "data-health": hop.health,
    }
    head = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    # the most telling reason in the box (an alarm or incident before the bare status); all of
    # them in its tooltip and in the page's table
    telling = [r for r in hop.reasons if not r.startswith("status ")] or list(hop.reasons)
    health_text = f"{hop.status}: {telling[0]}" if telling else hop.status
    health_colour = FAULTY_STROKE if hop.health == "faulty" else INK
    if hop.health == "degraded":
        health_colour = DEGRADED_STROKE
    owner_colour = hop.colour if hop.is_partner else MUTED  # a partner's own colour, even faulty
    lines = [
        _text(
            x + 8,
            y + 16,
            clip(role_line(hop), 26),
            fill=MUTED,
            font_size="11",
        ),
        _text(x + 8, y + 34, clip(hop.id, 21), fill=INK, font_size="12.5", font_weight="700"),
        _text(x + 8, y + 52, clip(hop.place_label), fill=INK, font_size="12"),
        _text(
            x + 8,
            y + 70,
            clip(hop.owner_label),
            fill=owner_colour,
            font_size="12",
            font_weight="700" if hop.is_partner else "400",
        ),
        _text(x + 8, y + 87, clip(hop.use_label), fill=INK, font_size="12"),
        _text(
            x + 8,
            y + 104,
            clip(health_text),
            fill=health_colour,
            font_size="12",
            font_weight="700" if hop.health != "ok" else "400",
            class_="health",
        ),
    ]
    return (
        f"<g{head}><title>{escape(hop_description(hop))}</title>"
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="6" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dash}/>' + "".join(lines) + "</g>"
    )


def _arrow(x1: float, x2: float, y: float) -> str:
    return (
        f'<line x1="{x1:.0f}" y1="{y:.0f}" x2="{x2 - 6:.0f}" y2="{y:.0f}" stroke="{MUTED}" '
        f'stroke-width="1.5"/><path d="M{x2:.0f},{y:.0f} l-8,-5 v10 z" fill="{MUTED}"/>'
    )


def _lines(hops: tuple[HopBox, ...]) -> list[tuple[HopBox, ...]]:
    return [hops[i : i + PER_LINE] for i in range(0, len(hops), PER_LINE)] or [()]


def picture_size(picture: TracePicture) -> tuple[int, int]:
    """Width and height of the drawn picture in px."""
    widest = max((min(len(r.hops), PER_LINE) for r in picture.rows), default=1)
    width = 2 * MARGIN + max(widest, 1) * BOX_W + max(widest - 1, 0) * GAP + GAP
    height = MARGIN + 30
    for row in picture.rows:
        height += ROW_TITLE_H + len(_lines(row.hops)) * (BOX_H + LINE_GAP)
    height += 40 if picture.rows else 30  # legend
    return max(width, 560), height


def render_trace_svg(picture: TracePicture) -> str:
    """The whole picture as a standalone SVG document (UTF-8 text)."""
    width, height = picture_size(picture)
    out: list[str] = []
    y = MARGIN + 18
    out.append(_text(MARGIN, y, picture.title, fill=INK, font_size="16", font_weight="700"))
    y += 12
    partners: dict[str, str] = {}
    for row in picture.rows:
        y += ROW_TITLE_H
        colour = FAULTY_STROKE if row.health == "DOWN" else INK
        out.append(
            f'<g class="trace-row" data-id={quoteattr(row.id)} data-health={quoteattr(row.health)}>'
        )
        out.append(
            _text(
                MARGIN,
                y - 10,
                f"{row.heading} · health {row.health}",
                fill=colour,
                font_size="13",
                font_weight="700",
            )
        )
        if not row.hops:
            out.append(
                _text(MARGIN, y + 20, "no hops this key may see", fill=MUTED, font_size="12")
            )
        position = 0
        lines = _lines(row.hops)
        for n, line in enumerate(lines):
            x = MARGIN + (GAP if n else 0)
            if n:  # the path continues from the line above
                out.append(_text(MARGIN, y + BOX_H / 2 + 4, "↳", fill=MUTED, font_size="16"))
            for i, hop in enumerate(line):
                position += 1
                if hop.is_partner:
                    partners[hop.owner] = hop.owner_label
                out.append(_hop(hop, position, x, y))
                if i < len(line) - 1 or n < len(lines) - 1:
                    out.append(_arrow(x + BOX_W, x + BOX_W + GAP - 4, y + BOX_H / 2))
                x += BOX_W + GAP
            y += BOX_H + LINE_GAP
        out.append("</g>")
    out.append(_legend(partners, MARGIN, y + 8))
    described = "; ".join(
        f"{row.heading}: " + " → ".join(f"{h.id} ({h.owner_label}, {h.health})" for h in row.hops)
        for row in picture.rows
    )
    label = f"{picture.title}: {len(picture.rows)} path(s), left to right"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f"aria-label={quoteattr(label)} font-family={quoteattr(FONT)}>"
        f"<title>{escape(picture.title)}</title><desc>{escape(described)}</desc>"
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>' + "".join(out) + "</svg>"
    )


def _legend(partners: dict[str, str], x: float, y: float) -> str:
    """Swatches: own network, each partner on the picture, faulty."""
    items = [("own network", OWN_STROKE, OWN_FILL)]
    items += [(name, *partner_colour(pid)) for pid, name in sorted(partners.items())]
    items.append(("faulty", FAULTY_STROKE, FAULTY_FILL))
    out = ['<g class="legend">']
    for label, stroke, fill in items:
        out.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="14" height="14" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="2"/>'
        )
        out.append(_text(x + 20, y + 12, label, fill=INK, font_size="12"))
        x += 34 + 7 * text_units(label)
    out.append("</g>")
    return "".join(out)
