"""A small hand-built network: two OLTs, cascaded splitters, ONTs, an MSTP circuit over a partner
link; and four field crews (two own, one of each partner) covering its areas (`demo_crews`).

It is the reference network of the contract tests and the demo `pboss serve` loads, so every answer
about it is known by hand (see tests/contract/).
"""

from __future__ import annotations

import json
from typing import Any

from pboss.inventory.model import Edge, Element, parse_edge, parse_node


def _n(kind: str, id: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "id": id, **fields}


def _e(type: str, src: str, dst: str, **fields: Any) -> dict[str, Any]:
    return {"type": type, "src": src, "dst": dst, **fields}


def demo_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The demo network as raw rows (what a loader would read)."""
    nodes = [
        _n("Region", "R-PD", name="浦东新区", code="PD"),
        _n(
            "Site",
            "EX-1",
            name="张江局",
            code="ZJ01",
            site_type="exchange",
            region="R-PD",
            address="上海市浦东新区张江路100号",
        ),
        _n(
            "Site",
            "EX-2",
            name="陆家嘴局",
            code="LJZ01",
            site_type="exchange",
            region="R-PD",
            address="上海市浦东新区陆家嘴环路1000号",
        ),
        _n(
            "Site",
            "B-JZ",
            name="财富国际金座",
            code="B0001",
            site_type="building",
            region="R-PD",
            address="上海市浦东新区世纪大道8号",
            households=120,
            lat=31.2354,
            lon=121.5055,
        ),
        _n(
            "Site",
            "B-DH",
            name="都华名苑",
            code="B0002",
            site_type="estate",
            region="R-PD",
            address="上海市浦东新区东方路1号",
            households=400,
            lat=31.2280,
            lon=121.5300,
        ),
        _n(
            "Site",
            "CP-XX",
            name="信息技术大厦",
            code="B0003",
            site_type="building",
            region="R-PD",
            address="上海市浦东新区碧波路690号",
            households=0,
        ),
        _n(
            "Partner", "P-TT", name="中国铁通", partner_type="leased_line", contract_id="TT-2009-01"
        ),
        _n("Partner", "P-OC", name="东方有线", partner_type="cable", contract_id="OC-2009-07"),
        # GPON: OLT-1 feeds B-JZ through 1:4 + two 1:8; OLT-2 feeds B-DH through 1:4 + 1:8
        _n("OLT", "OLT-1", name="ZJ-OLT-01", site="EX-1", spec="OLT-MA5800-X17"),
        _n("OLT", "OLT-2", name="LJZ-OLT-01", site="EX-2", spec="OLT-C600"),
        _n("PonPort", "OLT-1/0/1", site="EX-1", slot=0, port=1, spec="PON-GPON"),
        _n("PonPort", "OLT-1/0/2", site="EX-1", slot=0, port=2, spec="PON-GPON"),
        _n("PonPort", "OLT-2/0/1", site="EX-2", slot=0, port=1, spec="PON-GPON"),
        _n("Splitter", "SPL-JZ-1", site="B-JZ", stage=1, spec="SPL-1x4"),
        _n("Splitter", "SPL-JZ-2A", site="B-JZ", stage=2, spec="SPL-1x8"),
        _n("Splitter", "SPL-JZ-2B", site="B-JZ", stage=2, spec="SPL-1x8"),
        _n("Splitter", "SPL-DH-1", site="B-DH", stage=1, spec="SPL-1x4"),
        _n("Splitter", "SPL-DH-2A", site="B-DH", stage=2, spec="SPL-1x8"),
    ]
    edges = [
        _e("PART_OF", "OLT-1/0/1", "OLT-1"),
        _e("PART_OF", "OLT-1/0/2", "OLT-1"),
        _e("PART_OF", "OLT-2/0/1", "OLT-2"),
        _e("FED_BY", "SPL-JZ-1", "OLT-1/0/1"),
        _e("FED_BY", "SPL-DH-1", "OLT-2/0/1"),
    ]
    for spl, ratio, site in (
        ("SPL-JZ-1", 4, "B-JZ"), ("SPL-JZ-2A", 8, "B-JZ"), ("SPL-JZ-2B", 8, "B-JZ"),
        ("SPL-DH-1", 4, "B-DH"), ("SPL-DH-2A", 8, "B-DH"),
    ):  # fmt: skip
        for i in range(1, ratio + 1):
            port_id = f"{spl}:{i}"
            nodes.append(_n("SplitterPort", port_id, site=site, index=i))
            edges.append(_e("PART_OF", port_id, spl))
    edges += [
        _e("FED_BY", "SPL-JZ-2A", "SPL-JZ-1:1"),
        _e("FED_BY", "SPL-JZ-2B", "SPL-JZ-1:2"),
        _e("FED_BY", "SPL-DH-2A", "SPL-DH-1:1"),
    ]
    customers = [
        ("H-1", "张伟", "household", "standard", "B-JZ"),
        ("H-2", "王芳", "household", "gold", "B-JZ"),
        ("H-3", "李娜", "household", "standard", "B-JZ"),
        ("H-4", "刘洋", "household", "standard", "B-DH"),
        ("H-5", "陈静", "household", "standard", "B-DH"),
        ("E-1", "上海信息技术有限公司", "enterprise", "platinum", "CP-XX"),
        ("E-2", "都华物业管理公司", "enterprise", "gold", "B-DH"),
    ]
    for cid, name, ctype, tier, site in customers:
        nodes.append(
            _n(
                "Customer",
                cid,
                name=name,
                customer_type=ctype,
                sla_tier=tier,
                site=site,
                phone="138" + cid[-1] * 8,
                address=f"{site} 1号",
            )
        )
    onts = [("ONT-1", "SPL-JZ-2A:1"), ("ONT-2", "SPL-JZ-2A:2"), ("ONT-3", "SPL-JZ-2B:1"),
            ("ONT-4", "SPL-DH-2A:1"), ("ONT-5", "SPL-DH-2A:2")]  # fmt: skip
    for ont, port in onts:
        site = "B-JZ" if "JZ" in port else "B-DH"
        nodes.append(
            _n("ONT", ont, site=site, status="in_use", spec="ONT-HGU", serial=f"HWTC{ont}")
        )
        edges.append(_e("FED_BY", ont, port))
    services = [
        ("SVC-H1-BB", "FTTH-100M", "ONT-1", "H-1"),
        ("SVC-H1-TV", "IPTV", "ONT-1", "H-1"),
        ("SVC-H2-BB", "FTTH-1000M", "ONT-2", "H-2"),
        ("SVC-H3-BB", "FTTH-100M", "ONT-3", "H-3"),
        ("SVC-H3-VO", "VOICE", "ONT-3", "H-3"),
        ("SVC-H4-BB", "FTTH-100M", "ONT-4", "H-4"),
        ("SVC-E2-BB", "FTTH-1000M", "ONT-5", "E-2"),
        ("SVC-E1-LL", "MSTP-LL", "CIR-1", "E-1"),
        ("SVC-E2-LL", "MSTP-LL", "CIR-2", "E-2"),
        ("SVC-H5-CB", "CABLE-BB", "PA-DH-OC", "H-5"),
    ]
    # MSTP: NE-A (customer premises) -TS-1- NE-1 (EX-1) -TS-2- NE-2 (EX-2) -PL-1 (Tietong)- NE-Z;
    # trunk sections end on ports, partner links on the NEs themselves (the partner's hand-over)
    for ne, site in (("NE-A", "CP-XX"), ("NE-1", "EX-1"), ("NE-2", "EX-2"), ("NE-Z", "B-DH")):
        nodes.append(_n("NE", ne, site=site, spec="MSTP-ADM", status="in_use"))
    ports = [
        ("NE-A/E1-1", "NE-A", "PORT-E1"), ("NE-A/STM1-1", "NE-A", "PORT-STM1"),
        ("NE-1/STM1-1", "NE-1", "PORT-STM1"), ("NE-1/STM4-1", "NE-1", "PORT-STM4"),
        ("NE-1/E1-1", "NE-1", "PORT-E1"),
        ("NE-2/STM4-1", "NE-2", "PORT-STM4"), ("NE-2/E1-1", "NE-2", "PORT-E1"),
        ("NE-Z/E1-1", "NE-Z", "PORT-E1"),
    ]  # fmt: skip
    site_of_ne = {"NE-A": "CP-XX", "NE-1": "EX-1", "NE-2": "EX-2", "NE-Z": "B-DH"}
    for pid, ne, spec in ports:
        nodes.append(_n("Port", pid, site=site_of_ne[ne], spec=spec))
        edges.append(_e("PART_OF", pid, ne))
    nodes += [
        _n("TrunkSection", "TS-1", name="NE-A—NE-1", spec="TRUNK-STM1"),
        _n("TrunkSection", "TS-2", name="NE-1—NE-2", spec="TRUNK-STM4"),
        _n(
            "PartnerLink",
            "PL-1",
            name="铁通 NE-2—NE-Z",
            owner="P-TT",
            spec="PLINK-STM1",
            contract_id="TT-2009-01",
            partner_circuit_code="TT-SH-0001",
        ),
        _n("Circuit", "CIR-1", name="信息技术大厦 2M×2", bandwidth_2m=2, status="in_use"),
        _n("Circuit", "CIR-2", name="陆家嘴—张江 2M×4", bandwidth_2m=4, status="in_use"),
        _n(
            "PartnerAccess",
            "PA-DH-OC",
            site="B-DH",
            owner="P-OC",
            spec="PACC-CABLE",
            total=100,
            used=40,
            reserved=0,
        ),
    ]
    edges += [
        _e("TERMINATES", "TS-1", "NE-A/STM1-1"), _e("TERMINATES", "TS-1", "NE-1/STM1-1"),
        _e("TERMINATES", "TS-2", "NE-1/STM4-1"), _e("TERMINATES", "TS-2", "NE-2/STM4-1"),
        _e("TERMINATES", "PL-1", "NE-2"), _e("TERMINATES", "PL-1", "NE-Z"),
        _e("A_END", "CIR-1", "NE-A/E1-1"), _e("Z_END", "CIR-1", "NE-Z/E1-1"),
        _e("ROUTED_OVER", "CIR-1", "TS-1", seq=1, slots=[1, 2]),
        _e("ROUTED_OVER", "CIR-1", "TS-2", seq=2, slots=[5, 6]),
        _e("ROUTED_OVER", "CIR-1", "PL-1", seq=3, slots=[10, 11]),
        _e("A_END", "CIR-2", "NE-2/E1-1"), _e("Z_END", "CIR-2", "NE-1/E1-1"),
        _e("ROUTED_OVER", "CIR-2", "TS-2", seq=1, slots=[1, 2, 3, 4]),
    ]  # fmt: skip
    for sid, product, uses, cust in services:
        nodes.append(_n("Service", sid, product=product, status="in_use"))
        edges += [_e("USES", sid, uses), _e("FOR", sid, cust)]
    return nodes, edges


def demo_crew_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The demo's field crews (two own, one of each partner) and the areas they cover, as raw
    rows; kept apart from `demo_rows` because the Crew kind is registered by the field package
    (`bootstrap.register_kinds`), not by the inventory itself."""
    crews = _crews()
    return crews, [_e("COVERS", c["id"], area) for c in crews for area in c["areas"]]


def demo_crews() -> tuple[list[Element], list[Edge]]:
    """The demo's crews and COVERS edges as typed elements (needs the Crew kind registered)."""
    raw_nodes, raw_edges = demo_crew_rows()
    nodes = [parse_node(r) for r in raw_nodes]
    edges = [parse_edge(r) for r in raw_edges]
    bad = [x for x in nodes + edges if isinstance(x, list)]
    if bad:
        raise ValueError(f"demo crews are invalid: {bad}")
    return nodes, edges  # type: ignore[return-value]


def _crews() -> list[dict[str, Any]]:
    """The crew rows (members as JSON text, as stored)."""

    def members(*people: tuple[str, str, list[str]]) -> str:
        return json.dumps(
            [{"name": n, "phone": p, "skills": s} for n, p, s in people], ensure_ascii=False
        )

    return [
        _n(
            "Crew", "CREW-ZJ-1", name="张江装维一班", site="EX-1",
            skills=["ftthInstall", "splicing", "repair"], areas=["R-PD"], capacity_per_shift=6,
            supervisor="王主管",
            members=members(
                ("李明", "13800000001", ["ftthInstall", "splicing"]),
                ("张伟", "13800000002", ["ftthInstall", "repair"]),
            ),
        ),
        _n(
            "Crew", "CREW-LJZ-T", name="陆家嘴传输班", site="EX-2",
            skills=["mstpSdh", "splicing", "repair"], areas=["EX-2", "CP-XX", "B-DH"],
            capacity_per_shift=3, shift_start="09:00", shift_end="18:00", work_days=[1, 2, 3, 4, 5],
            members=members(("陈刚", "13800000003", ["mstpSdh", "splicing"])),
        ),
        _n(
            "Crew", "CREW-TT-1", name="铁通浦东施工队", owner="P-TT", site="EX-2",
            skills=["mstpSdh", "splicing"], areas=["R-PD"], capacity_per_shift=4,
            members=members(("赵强", "13900000001", ["mstpSdh"])),
        ),
        _n(
            "Crew", "CREW-OC-1", name="东方有线都华班", owner="P-OC", site="B-DH",
            skills=["cableTv", "repair"], areas=["B-DH"], capacity_per_shift=5,
            members=members(("孙丽", "13700000001", ["cableTv", "repair"])),
        ),
    ]  # fmt: skip


def demo_network() -> tuple[list[Element], list[Edge]]:
    """The demo network as typed elements, ready for `store.upsert`."""
    raw_nodes, raw_edges = demo_rows()
    nodes = [parse_node(r) for r in raw_nodes]
    edges = [parse_edge(r) for r in raw_edges]
    bad = [x for x in nodes + edges if isinstance(x, list)]
    if bad:
        raise ValueError(f"demo network is invalid: {bad}")
    return nodes, edges  # type: ignore[return-value]
