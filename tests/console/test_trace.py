"""The trace page and its SVG on both stores over the reference network: hops in path order, the
partner hop named and in its colour, a faulty hop red with its reason, one row per service of a
customer, downloads, a partner key's view, and bad or unknown ids answered with clear pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

from pboss.console.trace_svg import (
    FAULTY_STROKE,
    PER_LINE,
    HopBox,
    TracePicture,
    TraceRow,
    partner_colour,
    render_trace_svg,
)
from pboss.inventory.demo import demo_network
from tests.api.conftest import CRM, ENGINEER, PARTNER_OC, PARTNER_TT
from tests.console.conftest import Console

SVG = "{http://www.w3.org/2000/svg}"
CIR_1 = ["NE-A", "NE-A/E1-1", "TS-1", "TS-2", "PL-1", "NE-Z/E1-1", "NE-Z"]


def hops(svg_text: str) -> list[dict[str, Any]]:
    """The picture's hop groups in document order: their data attributes, rect and texts."""
    root = ET.fromstring(svg_text)
    out = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "hop":
            continue
        rect = g.find(f"{SVG}rect")
        assert rect is not None
        texts = [t.text or "" for t in g.iter(f"{SVG}text")]
        out.append({**g.attrib, "stroke": rect.get("stroke"), "texts": texts})
    return out


def svg_of(console: Console, element_id: str) -> str:
    """The stable picture URL's body, checked to be an SVG."""
    answer = console.client.get(f"/ui/trace/{element_id}.svg")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/svg+xml")
    return answer.text


def raise_alarm(console: Console, resource: str) -> None:
    """Raise a critical LOS alarm on `resource` through the API (it sets the resource faulty)."""
    document = "mutation R($input: RaiseAlarmInput!) { raiseAlarm(input: $input) { __typename } }"
    variables = {
        "input": {
            "resource": resource,
            "alarmType": "COMMUNICATIONS",
            "probableCause": "LOS",
            "severity": "CRITICAL",
        }
    }
    answer = console.client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"X-API-Key": ENGINEER},
    )
    assert answer.json()["data"]["raiseAlarm"]["__typename"] == "AlarmApplied", answer.text


def test_a_circuit_runs_a_end_trunk_z_end_with_the_partner_named(console: Console) -> None:
    console.login(ENGINEER)
    drawn = hops(svg_of(console, "CIR-1"))
    assert [h["data-id"] for h in drawn] == CIR_1
    assert [h["data-role"] for h in drawn] == ["a_end"] * 2 + ["trunk"] * 3 + ["z_end"] * 2
    assert [h["data-position"] for h in drawn] == [str(i) for i in range(1, 8)]
    partner = drawn[4]
    assert partner["data-owner"] == "P-TT" and partner["data-partner"] == "中国铁通"
    assert partner["stroke"] == partner_colour("P-TT")[0]
    assert "中国铁通" in partner["texts"] and "slots 10,11" in partner["texts"]
    assert all(h["data-partner"] == "" for h in drawn if h["data-id"] != "PL-1")
    assert "信息技术大厦" in drawn[0]["texts"]  # the A-end's site, by name
    assert "slots 1,2" in drawn[2]["texts"]
    assert {h["data-health"] for h in drawn} == {"ok"}


def test_the_page_shows_the_picture_its_table_and_the_links(console: Console) -> None:
    console.login(CRM)
    body = console.get("/ui/trace", id="CIR-1")
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body and 'role="img"' in body
    assert 'href="/ui/trace/CIR-1.svg?download=1" download="trace-CIR-1.svg"' in body
    assert 'href="/ui/trace/CIR-1.svg"' in body
    colour = partner_colour("P-TT")[0]
    assert f'<strong class="partner" style="color: {colour}">中国铁通</strong> (P-TT)' in body
    assert body.index('data-id="TS-1"') < body.index('data-id="PL-1"')


def test_a_faulty_hop_is_red_with_its_reason(console: Console) -> None:
    raise_alarm(console, "TS-2")
    console.login(ENGINEER)
    drawn = {h["data-id"]: h for h in hops(svg_of(console, "CIR-2"))}
    assert list(drawn) == ["NE-2", "NE-2/E1-1", "TS-2", "NE-1/E1-1", "NE-1"]
    faulty = drawn["TS-2"]
    assert faulty["data-health"] == "faulty" and faulty["stroke"] == FAULTY_STROKE
    assert any(t.startswith("FAULTY: alarm LOS") for t in faulty["texts"])
    body = console.get("/ui/trace", id="CIR-2")
    assert 'class="hop-faulty"' in body and "alarm LOS (CRITICAL" in body
    assert "health DOWN" in body
    assert all(h["data-health"] == "ok" for i, h in drawn.items() if i != "TS-2")


def test_a_customer_gets_one_row_per_service(console: Console) -> None:
    console.login(ENGINEER)
    root = ET.fromstring(svg_of(console, "H-3"))
    rows = [g for g in root.iter(f"{SVG}g") if g.get("class") == "trace-row"]
    assert [r.get("data-id") for r in rows] == ["SVC-H3-BB", "SVC-H3-VO"]
    for row in rows:
        ids = [g.get("data-id") for g in row.iter(f"{SVG}g") if g.get("class") == "hop"]
        assert ids == [
            *("ONT-3", "SPL-JZ-2B:1", "SPL-JZ-2B", "SPL-JZ-1:2", "SPL-JZ-1"),
            *("OLT-1/0/1", "OLT-1"),
        ]
    cable = hops(svg_of(console, "H-5"))
    assert [(h["data-id"], h["data-partner"]) for h in cable] == [("PA-DH-OC", "东方有线")]
    assert "used 40/100" in cable[0]["texts"]


def test_the_svg_downloads_with_a_file_name(console: Console) -> None:
    console.login(ENGINEER)
    plain = console.client.get("/ui/trace/CIR-1.svg")
    assert "content-disposition" not in plain.headers
    saved = console.client.get("/ui/trace/CIR-1.svg", params={"download": "1"})
    assert saved.headers["content-disposition"] == 'attachment; filename="trace-CIR-1.svg"'
    assert saved.text == plain.text
    port = console.client.get("/ui/trace/OLT-1%2F0%2F1.svg", params={"download": "1"})
    assert port.status_code == 200
    assert port.headers["content-disposition"] == 'attachment; filename="trace-OLT-1_0_1.svg"'


def test_unknown_and_bad_ids_get_clear_pages(console: Console) -> None:
    console.login(ENGINEER)
    unknown = console.client.get("/ui/trace", params={"id": "NO-SUCH"})
    assert unknown.status_code == 404 and "Nothing to trace" in unknown.text
    assert "NO-SUCH" in unknown.text and 'role="alert"' in unknown.text
    picture = console.client.get("/ui/trace/NO-SUCH.svg")
    assert picture.status_code == 404 and "NO-SUCH" in picture.text
    for bad, reason in (
        ("   ", "is empty"),
        ("C" * 201, "201 characters long"),
        ("CIR-1\x00", "U+0000"),
        ("CIR\u200b-1", "U+200B"),
    ):
        answer = console.client.get("/ui/trace", params={"id": bad})
        assert answer.status_code == 400 and reason in answer.text, bad
    assert console.client.get("/ui/trace/%01.svg").status_code == 400
    assert "Enter the id" in console.get("/ui/trace")


def test_a_partner_key_traces_only_what_the_api_shows_it(console: Console) -> None:
    console.login(PARTNER_TT)
    for household in ("H-1", "SVC-H1-BB", "CIR-1"):
        answer = console.client.get("/ui/trace", params={"id": household})
        assert answer.status_code == 404, household
        assert "张伟" not in answer.text and "13811111111" not in answer.text
    own = svg_of(console, "PL-1")  # its own link; the operator's NEs at its ends are not shown
    assert "中国铁通" in own and hops(own) == [] and "no hops this key may see" in own
    console.client.cookies.clear()
    console.login(PARTNER_OC)
    assert console.client.get("/ui/trace/PL-1.svg").status_code == 404


def test_without_a_key_nothing_is_drawn(console: Console) -> None:
    picture = console.client.get("/ui/trace/CIR-1.svg")
    assert picture.status_code == 401 and picture.headers["content-type"].startswith("text/plain")
    answer = console.client.get("/ui/trace", params={"id": "CIR-1"})
    assert answer.status_code == 401 and "NE-A" not in answer.text


def test_texts_are_escaped_and_long_paths_wrap() -> None:
    boxes = tuple(
        HopBox(
            id=f"X-{i}",
            kind="Port",
            role="trunk",
            site='<script>alert("x")</script> & 站',
            owner="self" if i % 2 else "P-Q",
            partner_name="伙伴<&>",
            status="IN_USE",
        )
        for i in range(1, 2 * PER_LINE + 3)
    )
    text = render_trace_svg(TracePicture("a <b> & c", (TraceRow("R", "R <1>", "OK", boxes),)))
    root = ET.fromstring(text)
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.find(f"{SVG}title").text == "a <b> & c"  # type: ignore[union-attr]
    drawn = hops(text)
    assert [h["data-id"] for h in drawn] == [f"X-{i}" for i in range(1, 2 * PER_LINE + 3)]
    assert "<script>" not in text
    ys = sorted({float(g.find(f"{SVG}rect").get("y")) for g in root.iter(f"{SVG}g")  # type: ignore[union-attr]
                 if g.get("class") == "hop"})  # fmt: skip
    assert len(ys) == 3  # three lines of at most PER_LINE boxes
    assert drawn[1]["data-partner"] == "伙伴<&>"


def test_every_element_of_the_network_answers_without_a_500(console: Console) -> None:
    """Trace, picture and search for every element id, as an engineer and as a partner: a page
    or a clear 404, never an error; and the partner's answers hold no household data."""
    nodes, _ = demo_network()
    household = [n.name for n in nodes if n.kind == "Customer"]
    household += [n.phone for n in nodes if n.kind == "Customer"]  # type: ignore[attr-defined]
    for key in (ENGINEER, PARTNER_TT):
        console.client.cookies.clear()
        console.login(key)
        for node in nodes:
            quoted = quote(node.id, safe="")
            for path in (f"/ui/trace?id={quoted}", f"/ui/trace/{quoted}.svg"):
                answer = console.client.get(path)
                assert answer.status_code in (200, 404), (key, path, answer.text[:300])
                if answer.headers["content-type"].startswith("image/svg+xml"):
                    ET.fromstring(answer.text)
                if key == PARTNER_TT:
                    assert not [h for h in household if h in answer.text], (path, household)
            found = console.client.get("/ui/search", params={"q": node.id})
            assert found.status_code == 200, (key, node.id)
            if key == PARTNER_TT:
                assert not [h for h in household if h in found.text], node.id
