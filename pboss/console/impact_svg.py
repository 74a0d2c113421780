"""The impact picture as SVG, drawn in Python from an `ImpactView`: the totals by product and SLA
tier as bars, then the tree of what depends on the resources as an indented outline, one row per
resource, with its services, customers and premium customers in aligned columns.

Large trees stay readable and small: the resources asked about are always opened, then the
branches holding platinum or gold customers, then the largest branches level by level while the
picture has room (`ROW_BUDGET`); an opened node shows its first `SHOWN_CHILDREN` branches and
`SHOWN_RIDERS` services (premium customers always), and one "more" row counts the rest. Every row
is a `<g>` with a class (`node`, `customer`, `rider`, `more`, `more-riders`) and its figures in
`data-` attributes, so tools and tests read the picture without parsing its text. All text is
escaped; the picture is one `role="img"` with an `aria-label` saying the totals.
"""

from __future__ import annotations

import heapq
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from pboss.console.impact_tree import ImpactNode, ImpactView, RiderView

WIDTH = 1000
ROW_H = 26
INDENT = 22
LEFT = 16
#: Right edges of the count columns: services, customers, premium customers.
COLUMNS = (820, 905, 985)
#: Rows the picture opens branches for, beyond the premium customers' paths.
ROW_BUDGET = 40
#: Premium customers the picture opens branches to (the page lists all of them).
PREMIUM_ROWS = 8
#: Rows at most, whatever opens them (about 2,400 px).
MAX_ROWS = 80
SHOWN_CHILDREN = 8
SHOWN_RIDERS = 4
#: Products and tiers drawn as bars (the rest are summed in "other").
BARS = 8
FONT = (
    'system-ui, "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", '
    "sans-serif"
)
INK, MUTED, LINE, PANEL = "#1f2328", "#57606a", "#8c959f", "#f6f8fa"
TIER_COLOURS = {"platinum": "#5b3e96", "gold": "#8a6100", "standard": "#57606a"}
STATUS_COLOURS = {"faulty": "#b42318", "retired": "#b42318", "maintenance": "#9a6700"}
HEALTH_COLOURS = {"down": "#b42318", "degraded": "#9a6700"}
PARTNER_FILL = "#fff4e5"


@dataclass
class Row:
    """One line of the outline: its group's class and data, its text, its depth and parent."""

    cls: str
    depth: int
    parent: int | None
    label: str
    data: dict[str, str | int]
    counts: tuple[int | None, int | None, int | None] = (None, None, None)
    colour: str = INK
    fill: str | None = None
    stroke: str = LINE
    title: str = ""


def _width(text: str) -> int:
    """Display width in half-width units (CJK characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _clip(text: str, units: int) -> str:
    """`text` cut to `units` half-widths, with an ellipsis when cut."""
    if _width(text) <= units:
        return text
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > units - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _shown_riders(node: ImpactNode) -> list[RiderView]:
    """The services an opened node lists: every premium one (riders are sorted premium first),
    then others up to `SHOWN_RIDERS` in all."""
    premium = [x for x in node.riders if x.premium]
    others = [x for x in node.riders if not x.premium]
    return premium + others[: max(0, SHOWN_RIDERS - len(premium))]


def _cost(node: ImpactNode) -> int:
    """Rows opening `node` adds."""
    kids = min(len(node.children), SHOWN_CHILDREN) + (len(node.children) > SHOWN_CHILDREN)
    shown = len(_shown_riders(node))
    return kids + shown + (len(node.riders) > shown)


def plan(view: ImpactView) -> set[int]:
    """The nodes (by `id()`) the picture opens: the roots; then, richest branch first, nodes
    above platinum and gold customers until `PREMIUM_ROWS` of them are drawn; then the biggest
    branches, shallowest first, while the picture stays within `ROW_BUDGET` rows (never more
    than `MAX_ROWS`)."""
    opened: set[int] = set()
    heap: list[tuple[int, int, int, int, str, ImpactNode]] = []
    rows = len(view.roots)
    premium_rows = 0

    def open_(node: ImpactNode) -> None:
        nonlocal rows, premium_rows
        opened.add(id(node))
        rows += _cost(node)
        premium_rows += sum(x.premium for x in _shown_riders(node))
        for child in node.children[:SHOWN_CHILDREN]:
            rank = 0 if child.premium else 1
            key = (rank, -child.premium, child.depth, -child.services, child.id, child)
            heapq.heappush(heap, key)

    for root in view.roots:
        open_(root)
    while heap:
        rank, *_, node = heapq.heappop(heap)
        cost = _cost(node)
        if rows + cost > MAX_ROWS:
            continue
        if (rank == 0 and premium_rows < PREMIUM_ROWS) or rows + cost <= ROW_BUDGET:
            open_(node)
    return opened


def _node_row(node: ImpactNode, depth: int, parent: int | None, opened: bool) -> Row:
    partner = node.owner != "self"
    label = f"{node.kind} {node.id}" + (f" · {node.name}" if node.name else "")
    if partner:
        label += f" · partner {node.owner}"
    if node.status in STATUS_COLOURS:
        label += f" · {node.status}"
    return Row(
        cls="node",
        depth=depth,
        parent=parent,
        label=("▾ " if opened else "▸ ") + label,
        data={
            "id": node.id,
            "kind": node.kind,
            "status": node.status,
            "owner": node.owner,
            "services": node.services,
            "customers": node.customers,
            "premium": node.premium,
            "expanded": "true" if opened else "false",
        },
        counts=(node.services, node.customers, node.premium),
        fill=PARTNER_FILL if partner else PANEL,
        stroke=STATUS_COLOURS.get(node.status, LINE),
        title=label,
    )


def _rider_row(x: RiderView, depth: int, parent: int) -> Row:
    data: dict[str, str | int] = {"product": x.product or "", "health": x.health}
    if x.service_id:
        data["service"] = x.service_id
    what = f"{x.product or 'service'}" + (f" {x.service_id}" if x.service_id else " (hidden)")
    if x.customer_id:
        data |= {"id": x.customer_id, "tier": x.sla_tier or ""}
        mark = "★ " if x.premium else ""
        label = f"{mark}{x.customer_name} ({x.sla_tier}) · {what}"
        cls = "customer"
    else:
        label, cls = what, "rider"
    if x.via:
        label += " via " + " › ".join(x.via)
    if x.health != "ok":
        label += f" · {x.health}"
    return Row(
        cls=cls,
        depth=depth,
        parent=parent,
        label=label,
        data=data,
        colour=HEALTH_COLOURS.get(x.health, TIER_COLOURS.get(x.sla_tier or "", INK)),
        title=label,
    )


def rows(view: ImpactView) -> list[Row]:
    """The picture's outline rows in drawing order."""
    opened = plan(view)
    out: list[Row] = []

    def visit(node: ImpactNode, depth: int, parent: int | None) -> None:
        is_open = id(node) in opened
        here = len(out)
        out.append(_node_row(node, depth, parent, is_open))
        if not is_open:
            return
        for child in node.children[:SHOWN_CHILDREN]:
            visit(child, depth + 1, here)
        rest = node.children[SHOWN_CHILDREN:]
        if rest:
            services = sum(c.services for c in rest)
            customers = sum(c.customers for c in rest)
            kinds = sorted({c.kind for c in rest})
            out.append(
                Row(
                    cls="more",
                    depth=depth + 1,
                    parent=here,
                    label=f"+ {len(rest)} more ({', '.join(kinds)})",
                    data={"nodes": len(rest), "services": services, "customers": customers},
                    counts=(services, customers, sum(c.premium for c in rest)),
                    colour=MUTED,
                )
            )
        shown = _shown_riders(node)
        out.extend(_rider_row(x, depth + 1, here) for x in shown)
        hidden = node.riders[len(shown) :]
        if hidden:
            customers = len({x.customer_id for x in hidden if x.customer_id})
            out.append(
                Row(
                    cls="more-riders",
                    depth=depth + 1,
                    parent=here,
                    label=f"+ {len(hidden)} more services",
                    data={"services": len(hidden), "customers": customers},
                    counts=(len(hidden), customers or None, None),
                    colour=MUTED,
                )
            )

    for root in view.roots:
        visit(root, 0, None)
    return out


def _attrs(data: dict[str, str | int]) -> str:
    return "".join(f" data-{k}={quoteattr(str(v))}" for k, v in data.items())


def _bars(title: str, counts: dict[str, int], x: int, y: int, width: int) -> list[str]:
    """A small horizontal bar chart of `counts` (largest first, the rest as "other")."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if len(items) > BARS:
        items = [*items[: BARS - 1], ("other", sum(v for _, v in items[BARS - 1 :]))]
    top = max((v for _, v in items), default=1) or 1
    out = [
        f'<text x="{x}" y="{y}" font-weight="600" fill="{INK}">{escape(title)}</text>',
    ]
    for i, (key, value) in enumerate(items):
        yy = y + 8 + i * 18
        bar = max(2, round((width - 200) * value / top))
        colour = TIER_COLOURS.get(key, "#0b5cad")
        out.append(
            f'<g class="total" data-key={quoteattr(key)} data-count="{value}">'
            f'<text x="{x}" y="{yy + 12}" fill="{INK}">{escape(_clip(key, 18))}</text>'
            f'<rect x="{x + 130}" y="{yy + 2}" width="{bar}" height="12" fill="{colour}"/>'
            f'<text x="{x + 136 + bar}" y="{yy + 12}" fill="{INK}">{value:,}</text></g>'
        )
    return out


def summary(view: ImpactView) -> str:
    """One sentence of the totals (the picture's accessible name)."""
    t = view.totals
    premium = sum(v for k, v in t.by_sla_tier.items() if k in ("platinum", "gold"))
    what = ", ".join(view.resource_ids[:5]) + ("…" if len(view.resource_ids) > 5 else "")
    return (
        f"Impact of {what}: {t.services:,} services of {t.customers:,} customers, "
        f"{premium:,} of them platinum or gold"
    )


def draw(view: ImpactView) -> str:
    """The impact picture as a standalone SVG document (no XML declaration, so it also inlines
    into a page)."""
    t = view.totals
    head: list[str] = [
        f'<text x="{LEFT}" y="28" font-size="18" font-weight="700" fill="{INK}">'
        f"{escape(_clip(summary(view).split(':')[0], 110))}</text>",
        f'<text x="{LEFT}" y="50" fill="{INK}">{escape(summary(view).split(": ", 1)[1])}'
        f"{' (partner view: services and customers are not named)' if view.partner else ''}"
        "</text>",
    ]
    bars_y = 78
    head += _bars("By product", t.by_product, LEFT, bars_y, WIDTH // 2)
    head += _bars("Customers by SLA tier", t.by_sla_tier, WIDTH // 2, bars_y, WIDTH // 2)
    tallest = max(len(t.by_product), len(t.by_sla_tier), 1)
    top = bars_y + 16 + min(tallest, BARS) * 18 + 24
    lines = rows(view)
    body: list[str] = [
        f'<g class="columns" fill="{MUTED}" font-weight="600">'
        f'<text x="{LEFT}" y="{top}">Resource / customer</text>'
        + "".join(
            f'<text x="{c}" y="{top}" text-anchor="end">{escape(h)}</text>'
            for c, h in zip(COLUMNS, ("services", "customers", "gold+"), strict=True)
        )
        + "</g>",
        f'<line x1="{LEFT}" y1="{top + 6}" x2="{WIDTH - 10}" y2="{top + 6}" stroke="{LINE}"/>',
    ]
    first = top + 14
    connectors: list[str] = []
    for i, row in enumerate(lines):
        y = first + i * ROW_H
        x = LEFT + row.depth * INDENT
        if row.parent is not None:
            px = LEFT + lines[row.parent].depth * INDENT + 8
            py = first + row.parent * ROW_H + ROW_H - 4
            connectors.append(f"M{px},{py}V{y + ROW_H // 2 - 2}H{x}")
        units = (COLUMNS[0] - 60 - x) // 7
        body.append(_row(row, x, y, units))
    height = first + len(lines) * ROW_H + 16
    label = summary(view)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label={quoteattr(label)} '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family={quoteattr(FONT)} font-size="13" class="impact-picture" '
        f'data-services="{t.services}" data-customers="{t.customers}" '
        f'data-listed="{view.listed}">'
        f"<title>{escape(label)}</title>"
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
        + "".join(head)
        + "".join(body[:2])
        + f'<path class="connectors" d="{" ".join(connectors)}" fill="none" stroke="{LINE}"/>'
        + "".join(body[2:])
        + "</svg>"
    )


def _row(row: Row, x: int, y: int, units: int) -> str:
    """One outline row as its `<g>`."""
    parts = [f'<g class="{row.cls}"{_attrs(row.data)}>']
    if row.title:
        parts.append(f"<title>{escape(row.title)}</title>")
    if row.fill:
        parts.append(
            f'<rect x="{x}" y="{y + 1}" width="{COLUMNS[0] - 50 - x}" height="{ROW_H - 4}" '
            f'rx="4" fill="{row.fill}" stroke="{row.stroke}"/>'
        )
    weight = ' font-weight="600"' if row.cls == "node" else ""
    parts.append(
        f'<text x="{x + 6}" y="{y + 17}" fill="{row.colour}"{weight}>'
        f"{escape(_clip(row.label, units))}</text>"
    )
    parts += _count_cells(row.counts, y)
    parts.append("</g>")
    return "".join(parts)


def _count_cells(counts: Iterable[int | None], y: int) -> list[str]:
    return [
        f'<text x="{c}" y="{y + 17}" text-anchor="end" fill="{INK}">{n:,}</text>'
        for c, n in zip(COLUMNS, counts, strict=True)
        if n is not None
    ]
