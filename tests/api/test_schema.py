"""Schemathesis over the live OpenAPI schema: no server errors, responses match the schema.

Every API endpoint is in the schema, so every later endpoint joins this test by existing.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import token_create
from openbook.wsgi import application
from tests.isolation.plans import _plans_submitted

# Loaded from the running application (no database is needed to describe the API).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


@pytest.fixture
def keep_test_connection(db):
    """Requests go straight to the WSGI application, which would close the test's database
    connection after each one; Django's own test client avoids that in the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_header(world):
    # A round with org A's plan submitted, so the planning endpoints answer with real data.
    _plans_submitted(world)
    _, clear = token_create(actor=world.people["member"], name="schemathesis", lifetime_days=7)
    return {"Authorization": f"Token {clear}"}


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, auth_header, keep_test_connection):
    case.call_and_validate(
        headers=auth_header,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )


def test_the_schema_documents_the_api(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/me/", "/api/v1/organisations/", "/api/v1/tokens/"):
        assert path in paths


@pytest.fixture
def lead_with_webhook(world):
    """The system lead's token, and a webhook of theirs, so the webhooks operations answer
    with their own data rather than only refusals."""
    from webhooks.services import endpoint_create, endpoint_ping

    endpoint = endpoint_create(actor=world.people["lead"], system=world.s1,
                               url="https://ledger.example.nhs.uk/in",
                               events=["transfer.applied"])  # fmt: skip
    tried = endpoint_ping(actor=world.people["lead"], endpoint=endpoint)
    tried.status, tried.attempts = "failed", 1  # so it can be sent again
    tried.save()
    _, clear = token_create(actor=world.people["lead"], name="schemathesis", lifetime_days=7)
    return {"Authorization": f"Token {clear}"}, endpoint, tried


@schema.include(path_regex="/webhooks/").parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_webhooks_api_conforms_for_the_lead(case, lead_with_webhook, keep_test_connection):
    headers, endpoint, tried = lead_with_webhook
    if case.path_parameters:  # the lead's own webhook and delivery, for answers with data
        case.path_parameters["code"] = "s1"
        if "id" in case.path_parameters:
            case.path_parameters["id"] = endpoint.pk
        if "delivery_id" in case.path_parameters:
            case.path_parameters["delivery_id"] = tried.webhook_id
    case.call_and_validate(
        headers=headers,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )


def test_every_operation_documents_its_errors_in_the_one_shape(client):
    """Before, most operations documented only their success: a client generated from the
    schema had no type for a 400's problems or a 409's conflicts."""
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = set(operation["responses"])
            expected = {"400", "401", "403", "404", "429"}
            if method != "get":
                expected.add("409")
            assert expected <= codes, (method, path, expected - codes)
            error = operation["responses"]["404"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
    detail = schema["components"]["schemas"]["ErrorDetail"]["properties"]
    assert {"code", "message", "fields", "problems", "problem_count", "conflicts"} <= set(detail)
