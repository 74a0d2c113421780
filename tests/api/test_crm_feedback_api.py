"""Status feedback from CRM over the API, on each store: reportCrmStatus and its bulk form,
crmMismatches and crmStatusReports; typed refusals (NotFound, Conflict, ValidationError,
Forbidden) that write nothing; roles."""

from __future__ import annotations

from typing import Any

from pboss.crm.feedback import MAX_BATCH
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_OC, Api

REPORT = """
mutation($input: CrmStatusReportInput!) {
  reportCrmStatus(input: $input) {
    __typename
    ... on CrmStatusRecorded {
      duplicate
      report { id messageId subjectKind subject crmOrderId status tmfStatus agrees mismatchIds }
      mismatches { id kind state subject crmSays pbossSays openedBy occurrences sites }
      resolved { id state resolvedBy }
    }
    ... on Error { message code }
    ... on NotFound { id kind }
    ... on Conflict { reasons }
    ... on ValidationError { issues { item field reason index } }
    ... on Forbidden { action role }
  }
}
"""
BULK = """
mutation($inputs: [CrmStatusReportInput!]!) {
  reportCrmStatuses(inputs: $inputs) {
    __typename
    ... on CrmStatusBatch {
      recorded duplicates refused
      results {
        __typename
        ... on CrmStatusRecorded { duplicate report { messageId agrees } }
        ... on NotFound { id kind }
        ... on Conflict { reasons }
      }
    }
    ... on ValidationError { message issues { item field reason index } }
    ... on Forbidden { action role }
  }
}
"""
MISMATCHES = """
query($open: Boolean, $kind: [CrmMismatchKind!], $first: Int, $after: String) {
  crmMismatches(open: $open, kind: $kind, first: $first, after: $after) {
    __typename
    ... on CrmMismatchConnection {
      totalCount
      totals { kind state count }
      edges { cursor node { id kind state subject } }
      pageInfo { hasNextPage endCursor }
    }
    ... on Forbidden { action role }
  }
}
"""
REPORTS = """
query($subject: ID!) {
  crmStatusReports(subject: $subject) {
    __typename
    ... on CrmSubjectFeedback {
      subject subjectKind reportCount
      reports { messageId status }
      mismatches { id kind state }
    }
    ... on NotFound { id kind }
    ... on Forbidden { action }
  }
}
"""


def report(api: Api, key: str = CRM, **given: Any) -> dict[str, Any]:
    """One reportCrmStatus answer."""
    return api.data(REPORT, key, input=given)["reportCrmStatus"]


def tally(store: GraphStore) -> tuple[dict[str, int], int]:
    """Node and edge counts and the number of events: what a refusal must leave as it was."""
    return store.counts(), len(store.events_after(0, first=1000))


def submit(api: Api, crm_order_id: str) -> str:
    """Submit an FTTH order as CRM; its pboss id."""
    q = """mutation($i: SubmitOrderInput!) { submitOrder(input: $i) { ... on Order { id } } }"""
    given = {"crmOrderId": crm_order_id, "product": "FTTH-100M", "site": "B-JZ", "customer": "H-A"}
    return api.data(q, CRM, i=given)["submitOrder"]["id"]


def test_a_port_crm_sold_that_pboss_shows_free_is_a_mismatch_listed_and_announced(
    api: Api,
) -> None:
    got = report(
        api, messageId="api-1", port={"port": "SPL-JZ-2A:3", "status": "SOLD", "customer": "H-9"}
    )
    assert got["__typename"] == "CrmStatusRecorded" and got["duplicate"] is False
    assert got["report"]["status"] == "sold" and got["report"]["tmfStatus"] == "busy"
    [m] = got["mismatches"]
    assert (m["kind"], m["state"], m["subject"]) == ("PORT_SOLD_BUT_FREE", "OPEN", "SPL-JZ-2A:3")
    assert m["crmSays"] == "sold to customer H-9" and m["sites"] == ["B-JZ"]
    listed = api.data(MISMATCHES, ENGINEER, open=True)["crmMismatches"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["id"] == m["id"]
    assert listed["totals"] == [{"kind": "PORT_SOLD_BUT_FREE", "state": "OPEN", "count": 1}]
    assert api.data(MISMATCHES, CRM, open=False)["crmMismatches"]["totalCount"] == 0
    q = (
        '{ events(types: ["CrmStatusMismatchEvent"]) '
        "{ ... on EventConnection { edges { node { subject body } } } } }"
    )
    [edge] = api.data(q, CRM)["events"]["edges"]
    assert edge["node"]["subject"] == "SPL-JZ-2A:3"
    assert edge["node"]["body"]["event"]["crmStatusMismatch"]["kind"] == "portSoldButFree"
    # CRM says the port is free after all: that agrees with pboss and resolves the mismatch
    fixed = report(api, messageId="api-2", port={"port": "SPL-JZ-2A:3", "status": "FREE"})
    assert fixed["report"]["agrees"] and fixed["resolved"] == [
        {"id": m["id"], "state": "RESOLVED", "resolvedBy": "api-2"}
    ]


def test_order_feedback_resend_and_conflict(api: Api, demo_store: GraphStore) -> None:
    order_id = submit(api, "API-O1")
    given = {"messageId": "api-o1", "order": {"crmOrderId": "API-O1", "status": "BILLING_STARTED"}}
    first = report(api, **given)
    assert first["report"]["subject"] == order_id and first["report"]["crmOrderId"] == "API-O1"
    assert [m["kind"] for m in first["mismatches"]] == ["BILLING_WITHOUT_SERVICE"]
    before = tally(demo_store)
    again = report(api, **given)
    assert again["duplicate"] is True and again["report"]["id"] == first["report"]["id"]
    other = dict(given, order={"crmOrderId": "API-O1", "status": "SOLD"})
    clash = report(api, **other)
    assert clash["__typename"] == "Conflict" and clash["code"] == "CONFLICT"
    assert clash["reasons"] == ["status: 'billingStarted' recorded, 'sold' sent"]
    assert tally(demo_store) == before
    seen = api.data(REPORTS, ENGINEER, subject="API-O1")["crmStatusReports"]
    assert (seen["subject"], seen["subjectKind"], seen["reportCount"]) == (order_id, "ORDER", 1)
    assert [m["kind"] for m in seen["mismatches"]] == ["BILLING_WITHOUT_SERVICE"]


def test_unknown_subjects_are_not_found_and_write_nothing(api: Api, demo_store: GraphStore) -> None:
    before = tally(demo_store)
    cases = [
        ({"order": {"crmOrderId": "NO-SUCH", "status": "SOLD"}}, ("NO-SUCH", "Order")),
        ({"port": {"port": "NO-PORT", "status": "FREE"}}, ("NO-PORT", "Port")),
        ({"package": {"package": "ftth-access@NOWHERE", "sold": 1}}, None),
    ]
    for i, (subject, want) in enumerate(cases):
        got = report(api, messageId=f"nf-{i}", **subject)
        assert got["__typename"] == "NotFound", got
        if want:
            assert (got["id"], got["kind"]) == want
    assert tally(demo_store) == before
    missing = api.data(REPORTS, CRM, subject="NO-SUCH")["crmStatusReports"]
    assert missing["__typename"] == "NotFound"


def test_bad_input_is_refused_before_anything_is_written(api: Api, demo_store: GraphStore) -> None:
    before = tally(demo_store)
    two = report(
        api,
        messageId="bad-1",
        port={"port": "SPL-JZ-2A:3", "status": "FREE"},
        package={"package": "ftth-access@B-JZ", "sold": 1},
    )
    assert two["__typename"] == "ValidationError"
    assert "exactly one of order, port and package" in two["message"]
    long_id = report(api, messageId="x" * 201, port={"port": "SPL-JZ-2A:3", "status": "FREE"})
    assert long_id["issues"][0]["field"] == "messageId"
    no_customer = report(api, messageId="bad-2", port={"port": "SPL-JZ-2A:3", "status": "SOLD"})
    assert "names its customer" in no_customer["message"]
    negative = report(api, messageId="bad-3", package={"package": "ftth-access@B-JZ", "sold": -1})
    assert negative["issues"][0]["field"] == "package.sold"
    errors = api.errors(
        REPORT, CRM, input={"messageId": "bad-4", "order": {"crmOrderId": "X", "status": "PAID"}}
    )
    assert "PAID" in errors[0]["message"]
    assert tally(demo_store) == before


def test_bulk_answers_each_message_and_refuses_a_malformed_batch_whole(
    api: Api, demo_store: GraphStore
) -> None:
    submit(api, "API-B1")
    inputs = [
        {"messageId": "bk-1", "order": {"crmOrderId": "API-B1", "status": "SOLD"}},
        {"messageId": "bk-2", "order": {"crmOrderId": "NOPE", "status": "SOLD"}},
        {"messageId": "bk-3", "package": {"package": "ftth-access@B-JZ", "sold": 3}},
        {"messageId": "bk-1", "order": {"crmOrderId": "API-B1", "status": "SOLD"}},
    ]
    got = api.data(BULK, CRM, inputs=inputs)["reportCrmStatuses"]
    assert [r["__typename"] for r in got["results"]] == [
        "CrmStatusRecorded",
        "NotFound",
        "CrmStatusRecorded",
        "CrmStatusRecorded",
    ]
    assert (got["recorded"], got["duplicates"], got["refused"]) == (2, 1, 1)
    assert got["results"][2]["report"]["agrees"] is True
    assert got["results"][3]["duplicate"] is True
    assert demo_store.get("CRMMSG-bk-2") is None
    before = tally(demo_store)
    malformed = [*inputs[:1], {"messageId": "bk-9"}]
    refused = api.data(BULK, CRM, inputs=malformed)["reportCrmStatuses"]
    assert refused["__typename"] == "ValidationError"
    assert refused["issues"][0]["index"] == 1 and refused["issues"][0]["item"] == "inputs[1]"
    too_many = [
        {"messageId": f"tm-{i}", "port": {"port": "SPL-JZ-2A:4", "status": "FREE"}}
        for i in range(MAX_BATCH + 1)
    ]
    big = api.data(BULK, CRM, inputs=too_many)["reportCrmStatuses"]
    assert big["__typename"] == "ValidationError" and str(MAX_BATCH) in big["message"]
    assert tally(demo_store) == before


def test_roles_partner_forbidden_engineer_reads_admin_reports(
    api: Api, demo_store: GraphStore
) -> None:
    given = {"messageId": "role-1", "port": {"port": "SPL-JZ-2A:5", "status": "FREE"}}
    before = tally(demo_store)
    partner = report(api, PARTNER_OC, **given)
    assert partner["__typename"] == "Forbidden" and partner["role"] == "partner"
    engineer = report(api, ENGINEER, **given)
    assert engineer["__typename"] == "Forbidden" and "engineers read" in engineer["message"]
    bulk = api.data(BULK, PARTNER_OC, inputs=[given])["reportCrmStatuses"]
    assert bulk["__typename"] == "Forbidden"
    assert tally(demo_store) == before
    for q, field, vars_ in (
        (MISMATCHES, "crmMismatches", {}),
        (REPORTS, "crmStatusReports", {"subject": "SPL-JZ-2A:5"}),
    ):
        assert api.data(q, PARTNER_OC, **vars_)[field]["__typename"] == "Forbidden"
    assert report(api, ADMIN, **given)["__typename"] == "CrmStatusRecorded"
    seen = api.data(REPORTS, ENGINEER, subject="SPL-JZ-2A:5")["crmStatusReports"]
    assert [r["messageId"] for r in seen["reports"]] == ["role-1"]


def test_mismatch_pages_follow_the_cursor(api: Api) -> None:
    for i, port in enumerate(("SPL-JZ-2A:3", "SPL-JZ-2A:4", "SPL-JZ-2A:5")):
        report(api, messageId=f"pg-{i}", port={"port": port, "status": "SOLD", "customer": "H-9"})
    report(api, messageId="pg-x", port={"port": "SPL-JZ-2A:1", "status": "FREE"})
    kind = ["PORT_SOLD_BUT_FREE"]
    page = api.data(MISMATCHES, CRM, kind=kind, first=2)["crmMismatches"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] is True
    rest = api.data(MISMATCHES, CRM, kind=kind, first=2, after=page["pageInfo"]["endCursor"])
    ids = [e["node"]["id"] for e in page["edges"] + rest["crmMismatches"]["edges"]]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert rest["crmMismatches"]["pageInfo"]["hasNextPage"] is False
    assert api.data(MISMATCHES, CRM)["crmMismatches"]["totalCount"] == 4


UPSERT = """
mutation Up($in: UpsertInput!) {
  upsertElements(input: $in) { __typename ... on Forbidden { role } }
}
"""
DELETE = """
mutation Del($ids: [ID!]!, $cascade: Boolean!) {
  deleteElements(ids: $ids, cascade: $cascade) { __typename }
}
"""


def test_feedback_records_are_written_only_by_the_feedback_mutations(
    api: Api, demo_store: GraphStore
) -> None:
    got = report(
        api, messageId="own-1", port={"port": "SPL-JZ-2A:6", "status": "SOLD", "customer": "H-9"}
    )
    [m] = got["mismatches"]
    forged = {
        "kind": "CrmMismatch",
        "id": m["id"],
        "fields": {"state": "resolved"},
    }
    for key in (ENGINEER, ADMIN):
        for merge in (False, True):
            answer = api.data(UPSERT, key, **{"in": {"elements": [forged], "merge": merge}})
            assert answer["upsertElements"]["__typename"] == "Forbidden"
    for key, cascade in ((ENGINEER, False), (ADMIN, True)):
        for ids in ([m["id"]], [got["report"]["id"]]):
            answer = api.data(DELETE, key, ids=ids, cascade=cascade)["deleteElements"]
            assert answer["__typename"] == "Forbidden"
    assert demo_store.get(m["id"]).state == "open"  # type: ignore[union-attr]
