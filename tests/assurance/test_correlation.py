"""The pure common-cause ranking (pboss.assurance.correlation) on hand-built access and transport
trees: the issue's correlation outcomes, and the explanation of why each candidate lost."""

from __future__ import annotations

from pboss.assurance.correlation import (
    AlarmFact,
    Complaint,
    Correlation,
    Resource,
    cluster,
    correlate,
)
from pboss.assurance.model import Incident
from pboss.assurance.pending import BatchTx
from pboss.inventory.model import Edge
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx
from tests.assurance.conftest import T0


class Tree:
    """An OLT with `ports` PON ports, each feeding `splitters` splitters of `homes` households."""

    def __init__(self, ports: int = 4, splitters: int = 2, homes: int = 32, olt: str = "OLT-1"):
        self.olt = olt
        self.res: dict[str, Resource] = {"SITE-1": Resource(id="SITE-1", kind="Site", riders=0)}
        total = ports * splitters * homes
        self.res[olt] = Resource(id=olt, kind="OLT", riders=total)
        self.res["SITE-1"] = Resource(id="SITE-1", kind="Site", riders=total)
        for p in range(ports):
            pon = f"{olt}/PON-{p}"
            self.res[pon] = Resource(id=pon, kind="PonPort", riders=splitters * homes)
            for s in range(splitters):
                spl = f"{pon}/SPL-{s}"
                self.res[spl] = Resource(id=spl, kind="Splitter", riders=homes)
                for h in range(homes):
                    for kind, rid in (("ONT", f"{spl}/ONT-{h}"), ("SplitterPort", f"{spl}/{h}")):
                        self.res[rid] = Resource(id=rid, kind=kind, riders=1)

    def pon(self, p: int) -> str:
        """A PON port's id."""
        return f"{self.olt}/PON-{p}"

    def spl(self, p: int, s: int) -> str:
        """A splitter's id."""
        return f"{self.pon(p)}/SPL-{s}"

    def ticket(self, p: int, s: int, h: int) -> Complaint:
        """A complaint from household h under splitter s of port p."""
        spl = self.spl(p, s)
        path = [f"{spl}/ONT-{h}", f"{spl}/{h}", spl, self.pon(p), self.olt, "SITE-1"]
        return Complaint(id=f"TT-{p}-{s}-{h}", subject=f"CUST-{p}-{s}-{h}", path=path)

    def alarm(self, rid: str, severity: str = "critical") -> AlarmFact:
        """An alarm on a PON port or the OLT, with the chain above it."""
        path = [rid, self.olt, "SITE-1"] if rid != self.olt else [rid, "SITE-1"]
        return AlarmFact(id=f"AL-{rid}", resource=rid, severity=severity, path=path)


def test_twenty_households_on_one_splitter_point_at_that_splitter() -> None:
    t = Tree(ports=16)
    tickets = [t.ticket(1, 0, h) for h in range(20)]
    clusters = cluster(tickets, [], t.res)
    assert len(clusters) == 1
    corr = clusters[0].correlation
    assert corr.chosen == t.spl(1, 0)
    assert len(clusters[0].complaints) == 20
    why = {a.resource: a.why_lost for a in corr.alternatives}
    assert why[t.pon(1)].startswith("less specific: 64 riders vs 32")
    assert why[t.olt].startswith("not plausible: 20 of its 1024 riders")
    assert why[f"{t.spl(1, 0)}/ONT-0"].startswith("explains less: 1 vs 20")
    assert "SITE-1" not in why  # a place is never a cause


def test_tickets_across_two_splitters_of_one_port_point_at_the_port() -> None:
    t = Tree()
    tickets = [t.ticket(2, 0, h) for h in range(4)] + [t.ticket(2, 1, h) for h in range(3)]
    clusters = cluster(tickets, [], t.res)
    assert [c.cause for c in clusters] == [t.pon(2)]
    corr = clusters[0].correlation
    why = {a.resource: a.why_lost for a in corr.alternatives}
    assert why[t.spl(2, 0)] == "explains less: 4 vs 7 complaints and alarms"
    assert corr.winner is not None and corr.winner.share == round(7 / 64, 4)


def test_a_port_alarm_outweighs_more_specific_tickets() -> None:
    t = Tree()
    tickets = [t.ticket(3, 1, h) for h in range(3)]
    corr = correlate(tickets, [t.alarm(t.pon(3))], t.res)
    assert corr.chosen == t.pon(3)
    win = corr.winner
    assert win is not None and win.alarm_weight == 1.0 and win.affected == 64
    why = {a.resource: a.why_lost for a in corr.alternatives}
    assert why[t.spl(3, 1)] == "explains less: 3 vs 4 complaints and alarms"
    # the same tickets without the alarm point at their splitter
    assert correlate(tickets, [], t.res).chosen == t.spl(3, 1)


def test_a_minor_alarm_is_no_reason_to_move_up() -> None:
    t = Tree()
    tickets = [t.ticket(0, 0, h) for h in range(10)]
    clusters = cluster(tickets, [t.alarm(t.pon(0), "minor")], t.res)
    assert clusters[0].cause == t.spl(0, 0)


def test_circuits_over_one_trunk_section_point_at_it() -> None:
    res = {
        "TS-1": Resource(id="TS-1", kind="TrunkSection", riders=6),
        "PL-9": Resource(id="PL-9", kind="PartnerLink", riders=40),
        "TS-2": Resource(id="TS-2", kind="TrunkSection", riders=30),
    }
    complaints = []
    for i in range(4):
        for rid, kind in ((f"PA-{i}", "Port"), (f"NA-{i}", "NE"), (f"PZ-{i}", "Port"),
                          (f"NZ-{i}", "NE")):  # fmt: skip
            res[rid] = Resource(id=rid, kind=kind, riders=3)
        sections = ["TS-2", "TS-1"] if i % 2 else ["TS-1", "PL-9"]
        path = [f"PA-{i}", f"NA-{i}", *sections, f"PZ-{i}", f"NZ-{i}"]
        complaints.append(Complaint(id=f"TT-{i}", subject=f"CUST-{i}", path=path))
    clusters = cluster(complaints, [], res)
    assert [c.cause for c in clusters] == ["TS-1"]
    why = {a.resource: a.why_lost for a in clusters[0].correlation.alternatives}
    assert why["PL-9"] == "explains less: 2 vs 4 complaints and alarms"


def test_circuits_over_one_partner_link_point_at_the_link() -> None:
    res = {"PL-9": Resource(id="PL-9", kind="PartnerLink", riders=8)}
    complaints = []
    for i in range(3):
        res[f"TS-{i}"] = Resource(id=f"TS-{i}", kind="TrunkSection", riders=20)
        res[f"NE-{i}"] = Resource(id=f"NE-{i}", kind="NE", riders=50)
        path = [f"NE-{i}", f"TS-{i}", "PL-9"]
        complaints.append(Complaint(id=f"TT-{i}", subject=f"C-{i}", path=path))
    assert [c.cause for c in cluster(complaints, [], res)] == ["PL-9"]


def test_two_unrelated_clusters_make_two_incidents() -> None:
    t = Tree(ports=16, splitters=2, homes=32)
    a = [t.ticket(0, 0, h) for h in range(6)]
    b = [t.ticket(9, 1, h) for h in range(5)]
    clusters = cluster(a + b, [], t.res)
    assert [(c.cause, len(c.complaints)) for c in clusters] == [
        (t.spl(0, 0), 6),
        (t.spl(9, 1), 5),
    ]
    why = {x.resource: x.why_lost for x in clusters[0].correlation.alternatives}
    assert why[t.olt].startswith("not plausible: 11 of its 1024 riders")


def test_an_olt_outage_points_at_the_olt() -> None:
    t = Tree(ports=16, splitters=2, homes=32)
    tickets = [t.ticket(p, s, h) for p in range(16) for s in range(2) for h in range(0, 32, 3)]
    alarms = [t.alarm(t.pon(p)) for p in range(0, 16, 2)]
    clusters = cluster(tickets, alarms, t.res)
    assert len(clusters) == 1 and clusters[0].cause == t.olt
    assert len(clusters[0].complaints) == len(tickets) and len(clusters[0].alarms) == 8
    win = clusters[0].correlation.winner
    assert win is not None and win.affected == 8 * 64 + 8 * 22  # alarmed ports + the rest's callers


def test_port_alarms_alone_stay_with_their_ports_until_the_olt_is_plausible() -> None:
    t = Tree(ports=64, splitters=2, homes=32)
    two = cluster([], [t.alarm(t.pon(1)), t.alarm(t.pon(2))], t.res)
    assert sorted(c.cause or "" for c in two) == [t.pon(1), t.pon(2)]
    many = cluster([], [t.alarm(t.pon(p)) for p in range(8)], t.res)
    assert [c.cause for c in many] == [t.olt]


def test_a_lone_ticket_points_at_its_ont() -> None:
    t = Tree()
    corr = correlate([t.ticket(0, 0, 5)], [], t.res)
    assert corr.chosen == f"{t.spl(0, 0)}/ONT-5"
    why = {a.resource: a.why_lost for a in corr.alternatives}
    assert why[f"{t.spl(0, 0)}/5"].startswith("same evidence and riders: a ONT is taken before")


def test_the_explanation_round_trips() -> None:
    t = Tree()
    corr = correlate([t.ticket(0, 0, h) for h in range(3)], [], t.res)
    assert Correlation.loads(corr.dumps()) == corr
    assert Correlation.loads("") is None
    assert corr.considered == 9 and len(corr.alternatives) == 8


def test_a_batchs_linked_many_sees_its_own_links_and_not_its_unlinks(
    demo_store: GraphStore,
) -> None:
    """The batch correlator's units of work share one transaction whose writes are buffered:
    a read of several nodes' edges shows what the batch linked and hides what it unlinked."""
    demo_store.upsert(
        [Incident(id="INC-OLD", suspected="SPL-JZ-1", created_at=T0, updated_at=T0)],
        [Edge(type="SUSPECTS", src="INC-OLD", dst="SPL-JZ-1")],
        actor="t",
        reason="an incident",
    )

    def read(tx: GraphTx) -> dict[str, list[str]]:
        batch = BatchTx(tx)
        batch.put(Incident(id="INC-NEW", suspected="SPL-JZ-2A", created_at=T0, updated_at=T0))
        batch.link(Edge(type="SUSPECTS", src="INC-NEW", dst="SPL-JZ-2A"))
        batch.unlink("SUSPECTS", "INC-OLD", "SPL-JZ-1")
        got = batch.linked_many(["SPL-JZ-2A", "SPL-JZ-1", "OLT-1"], "SUSPECTS", "in")
        return {i: [el.id for _, el in rows] for i, rows in got.items()}

    seen = demo_store.transact(read, actor="t", reason="read")
    assert seen == {"SPL-JZ-2A": ["INC-NEW"], "SPL-JZ-1": [], "OLT-1": []}
