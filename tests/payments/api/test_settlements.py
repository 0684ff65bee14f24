"""Settlements through the API: each mechanism linked to outcomes answers for itself, and a
partner who may not enter settlements is refused before anything they send is read."""

import pytest
from rest_framework.test import APIClient

from payments.models import Settlement

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_outcomes_are_answered_mechanism_by_mechanism(world, people, agreed):
    url = f"/api/v1/rounds/{agreed.round.slug}/systems/s1/agreements/{agreed.pk}/settlements/"
    # A partner's approver may not enter one: 403, even for a body that would not be valid.
    refused = _api(people["approver"]).post(url, {"period": "Q9"}, format="json")
    assert refused.status_code == 403
    lead = _api(people["lead"])
    # The pool (1) is not linked to outcomes; the all-or-nothing payment (2) is, and must say.
    unanswered = lead.post(url, {"period": "year", "measures": ["1000000", None],
                                 "outcomes": [None, None]}, format="json")  # fmt: skip
    assert unanswered.status_code == 400
    assert "Mechanism 2 (All-or-nothing outcome payment): say whether its outcome measures" in (
        unanswered.content.decode()
    )
    entered = lead.post(url, {"period": "year", "measures": ["1000000", None],
                              "outcomes": [None, False]}, format="json")  # fmt: skip
    assert entered.status_code == 201, entered.content
    body = entered.json()
    assert (body["outcomes"], body["outcomes_met"]) == ([None, False], False)
    assert Settlement.objects.get().outcomes == [None, False]
