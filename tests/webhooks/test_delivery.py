"""Deliveries made by the real Celery worker to a real HTTP receiver on this machine, which
checks each signature as a finance system would (with the Standard Webhooks library)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from payments.services.control_totals import control_total_set
from tests.conftest import build_world
from tests.plans.conftest import make_round
from webhooks.models import Delivery

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class Receiver:
    """An HTTP server on 127.0.0.1 that records each call and answers from a script (the last
    answer repeats)."""

    def __init__(self, answers: list[tuple[int, dict]]):
        self.calls: list[dict] = []
        self.answers = answers
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                receiver.calls.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body})  # fmt: skip
                status, headers = receiver.answers[min(len(receiver.calls), len(answers)) - 1]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _wait_for(check, what: str, limit: float = 120.0):
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def _register(world, url: str, events: list[str]) -> dict:
    lead = APIClient()
    lead.force_authenticate(world.people["lead"])
    created = lead.post(f"/api/v1/systems/{world.s1.code}/webhooks/",
                        {"url": url, "events": events}, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    return created.json() | {"client": lead}


def test_results_recalculated_by_the_worker_reach_the_receiver_signed_after_a_retry(
    celery_worker_process,
):
    """The receiver fails the first call; the worker tries again a second later with the same
    id and a fresh signature; both verify; the lead reads both attempts through the API."""
    world = build_world()
    plan_round = make_round()
    receiver = Receiver([(503, {}), (200, {})])
    try:
        hook = _register(world, receiver.url + "/openbook?source=ics", ["results.recalculated"])
        control_total_set(actor=None, plan_round=plan_round, organisation=world.org_a,
                          amount=Decimal("2.5"))  # fmt: skip
        _wait_for(lambda: len(receiver.calls) >= 2, "the retry to reach the receiver")
        first, second = receiver.calls[:2]
        verify = Webhook(hook["secret"])
        for call in (first, second):
            assert call["path"] == "/openbook?source=ics"
            payload = verify.verify(call["body"], call["headers"])  # raises if the signature fails
        assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == payload["id"]
        assert first["body"] == second["body"]
        assert payload["type"] == "results.recalculated" and payload["system"] == "s1"
        assert payload["data"]["system_control_total"] == "2.500"
        assert payload["links"]["api"].endswith("/api/v1/rounds/2026-27/systems/s1/results/")
        _wait_for(lambda: Delivery.objects.filter(status="delivered").exists(), "the record")
        listed = (
            hook["client"]
            .get(f"/api/v1/systems/s1/webhooks/{hook['id']}/deliveries/")
            .json()["results"]
        )
        assert [(d["id"], d["status"], d["attempts"]) for d in listed] == [
            (payload["id"], "delivered", 2)
        ]
        assert [t["status_code"] for t in listed[0]["tries"]] == [503, 200]
        assert listed[0]["tries"][0]["error"] == "The receiver answered 503."
        assert len(receiver.calls) == 2  # delivered: never again
    finally:
        receiver.close()


def test_a_redirect_is_never_followed_and_the_delivery_fails_after_its_retries(
    celery_worker_process,
):
    """Deliveries go to the address the lead registered and nowhere else: a receiver that
    redirects elsewhere is recorded as failing, and the other address never hears of it."""
    world = build_world()
    make_round()
    elsewhere = Receiver([(200, {})])
    receiver = Receiver([(307, {"location": elsewhere.url + "/stolen"})])
    try:
        hook = _register(world, receiver.url + "/in", ["plan.submitted"])
        pinged = hook["client"].post(f"/api/v1/systems/s1/webhooks/{hook['id']}/ping/")
        assert pinged.status_code == 202
        # WEBHOOKS_RETRY_SECONDS is 1,1,1 in the tests: the first try and three retries.
        _wait_for(lambda: Delivery.objects.filter(status="failed").exists(), "the last retry")
        delivery = Delivery.objects.get()
        assert delivery.attempts == 4 and len(receiver.calls) == 4
        assert all("redirect" in t.error for t in delivery.tries.all())
        assert elsewhere.calls == []
        resent = hook["client"].post(
            f"/api/v1/systems/s1/webhooks/{hook['id']}/deliveries/{delivery.webhook_id}/resend/"
        )
        assert resent.status_code == 202
        _wait_for(lambda: len(receiver.calls) == 5, "the delivery sent again")
        assert receiver.calls[4]["headers"]["webhook-id"] == delivery.webhook_id
        # Once, and recorded, before the test's tables are emptied under the worker.
        _wait_for(lambda: Delivery.objects.filter(status="failed", attempts=5).exists(),
                  "the last attempt's record")  # fmt: skip
    finally:
        receiver.close()
        elsewhere.close()
