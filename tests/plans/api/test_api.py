"""The planning API: bulk draft upserts (all or nothing, idempotent), conflicts, workflow, diff."""

import pytest
from rest_framework.test import APIClient

from plans.models import Submission, Value

pytestmark = pytest.mark.django_db
BASE = "/api/v1/rounds/2026-27/submissions/ZA1/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def put_values(client, values):
    return client.put(BASE + "draft/values/", {"values": values}, format="json")


def test_bulk_upsert_starts_the_plan_and_is_idempotent(world, plan_round):
    client = api(world.people["member"])
    values = [{"line": "F110", "month": m, "value": "100.5"} for m in range(1, 13)]
    values.append({"line": "F100", "counterparty": "ZA3", "month": 1, "value": "2000"})
    first = put_values(client, values)
    assert first.status_code == 200, first.json()
    assert first.json()["changed"] == 13
    again = put_values(client, values)
    assert again.json() == {"changed": 0, "revision": first.json()["revision"]}
    assert Value.objects.count() == 13
    draft = client.get(BASE + "versions/0/").json()
    assert {"line": "F100", "counterparty": "ZA3", "month": 1, "value": "2000.000"} in draft[
        "values"
    ]


def test_one_bad_value_rejects_the_whole_request_naming_it(world, plan_round):
    client = api(world.people["member"])
    response = put_values(
        client,
        [{"line": "F110", "month": 1, "value": "1"}, {"line": "F110", "month": 2, "value": "-1"}],
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["problems"] == [
        {"cell": "F110, May", "value": "-1", "problem": "must be zero or more"}  # as typed
    ]
    assert not Value.objects.exists()


def test_malformed_requests_get_field_errors(world, plan_round):
    client = api(world.people["member"])
    response = put_values(client, [{"line": "F110", "month": 13, "value": "x"}])
    assert response.status_code == 400
    assert "fields" in response.json()["error"]
    assert client.put(BASE + "draft/values/", {"values": []}, format="json").status_code == 400


def test_a_stale_edit_gets_409_with_both_values(world, plan_round):
    client = api(world.people["member"])
    put_values(client, [{"line": "F110", "month": 1, "value": "10"}])
    put_values(
        api(world.people["approver"]),
        [{"line": "F110", "month": 1, "value": "11", "expected": "10"}],
    )
    response = put_values(client, [{"line": "F110", "month": 1, "value": "12", "expected": "10"}])
    assert response.status_code == 409
    assert response.json()["error"]["conflicts"] == [
        {"cell": "F110, Apr", "yours": "12.000", "theirs": "11.000"}
    ]


def test_workflow_through_the_api(world, plan_round):
    from demo.synthetic import plan_cells

    member, approver, lead = (api(world.people[n]) for n in ("member", "approver", "lead"))
    cells = [
        {"line": c.line, "counterparty": c.counterparty, "month": c.month, "value": str(c.value)}
        for c in plan_cells(plan_round, world.org_a)
    ]
    assert put_values(member, cells).status_code == 200
    assert (
        member.put(
            BASE + "draft/narratives/summary/", {"text": "Our plan"}, format="json"
        ).status_code
        == 204
    )
    submitted = approver.post(
        BASE + "submit/", {"board_approval_date": "2026-11-01", "confirmed": True}, format="json"
    )
    assert submitted.status_code == 201, submitted.json()
    assert submitted.json()["number"] == 1
    assert (
        lead.post(BASE + "return/", {"reason": "Check pay"}, format="json").json()["status"]
        == "returned"
    )
    put_values(member, [{"line": "F110", "month": 1, "value": "1"}])
    approver.post(
        BASE + "submit/", {"board_approval_date": "2026-11-02", "confirmed": True}, format="json"
    )
    diff = member.get(BASE + "diff/?from=1&to=2").json()
    assert len(diff["changes"]) == 1
    change = diff["changes"][0]
    assert (change["line"], change["month"], change["after"]) == ("F110", 1, "1.000")
    assert diff["totals"]["gbp000"] == change["delta"]
    assert lead.post(BASE + "accept/").json()["status"] == "accepted"
    detail = api(world.people["partner"]).get(BASE).json()
    assert [v["number"] for v in detail["versions"]] == [1, 2]
    comments = member.get(BASE + "comments/").json()
    assert comments[0]["kind"] == "return_reason"
    assert Submission.objects.get().status == "accepted"


def test_diff_needs_two_version_numbers(world, plan_round):
    put_values(api(world.people["member"]), [{"line": "F110", "month": 1, "value": "1"}])
    assert api(world.people["member"]).get(BASE + "diff/?from=x").status_code == 400
