"""`pboss generate`: a deterministic Shanghai-like metro written as a native bundle.

Deterministic for a (scale, seed): every part draws from its own seeded random stream and rows
are written in a fixed order, so the same arguments give byte-identical files. Rows are streamed
to disk as they are made; memory holds only the transport graph (hundreds of NEs) and counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pboss.inventory.catalog import Catalog, default_catalog
from pboss.loaders.generator.access import emit_exchange_access
from pboss.loaders.generator.emit import Emitter
from pboss.loaders.generator.field import emit_crews, emit_history
from pboss.loaders.generator.places import emit_exchange, emit_region, make_districts
from pboss.loaders.generator.scales import SCALES, Scale
from pboss.loaders.generator.transport import emit_transport
from pboss.loaders.native_writer import BundleWriter
from pboss.loaders.progress import NoProgress, Progress

GENERATOR_VERSION = 3  # 2: partner links end on NEs, not ports; 3: crews and field history
SPECS_USED = (
    "OLT-MA5800-X17", "OLT-C600", "PON-GPON", "SPL-1x4", "SPL-1x8", "SPL-1x16", "ONT-HGU",
    "ONT-SFU", "MSTP-ADM", "PORT-STM1", "PORT-STM4", "PORT-STM16", "PORT-E1", "PORT-GE",
    "TRUNK-STM1", "TRUNK-STM4", "TRUNK-STM16", "PLINK-STM1", "PLINK-STM4", "PACC-CABLE",
)  # fmt: skip
PRODUCTS_USED = ("FTTH-100M", "FTTH-1000M", "IPTV", "VOICE", "CABLE-BB", "MSTP-LL")


@dataclass
class GenerateSummary:
    """What a generation wrote."""

    scale: str
    seed: int
    nodes: int
    edges: int
    files: dict[str, int] = field(default_factory=dict)
    transport: dict[str, int] = field(default_factory=dict)
    field_work: dict[str, int] = field(default_factory=dict)


def _check_catalog(catalog: Catalog) -> None:
    """Refuse a catalog that lacks the specs or products the generator uses."""
    missing = [s for s in SPECS_USED if s not in catalog.specs]
    missing += [p for p in PRODUCTS_USED if p not in catalog.products]
    if missing:
        raise ValueError(f"the catalog lacks what the generator uses: {', '.join(missing)}")


def _partners(em: Emitter) -> None:
    """The two partners: a leased-line operator and a cable operator."""
    em.node(
        "Partner", "P-TT", name="中国铁通", partner_type="leased_line", contract_id="TT-2009-01"
    )
    em.node("Partner", "P-OC", name="东方有线", partner_type="cable", contract_id="OC-2009-07")


def generate(
    out: Path,
    scale: str | Scale,
    seed: int,
    *,
    overwrite: bool = False,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
) -> GenerateSummary:
    """Write a generated metro of the given scale to `out` as a native bundle."""
    s = SCALES[scale] if isinstance(scale, str) else scale
    catalog = catalog or default_catalog()
    _check_catalog(catalog)
    progress = progress or NoProgress()
    key = f"{seed}:{s.name}"
    meta = {"generator": {"scale": s.name, "seed": seed, "version": GENERATOR_VERSION}}
    progress.phase("generate", 0)
    with BundleWriter(out, meta=meta, overwrite=overwrite) as writer:
        em = Emitter(writer, progress)
        _partners(em)
        districts = make_districts(s.districts, key)
        exchanges: dict[str, list[str]] = {}
        for d in districts:
            emit_region(em, d)
            exchanges[d.code] = [emit_exchange(em, d, e) for e in range(1, s.exchanges + 1)]
        transport = emit_transport(em, key, districts, exchanges, s)
        for d in districts:
            for e, ex_site in enumerate(exchanges[d.code], start=1):
                emit_exchange_access(em, key, d, e, ex_site, s, catalog.products)
        crews = emit_crews(em, key, districts, exchanges)
        history = emit_history(em, key, crews, s.history_months, catalog)
        em.flush_progress()
        files = writer.close()
    progress.done()
    return GenerateSummary(s.name, seed, em.nodes, em.edges, files, transport, history)
