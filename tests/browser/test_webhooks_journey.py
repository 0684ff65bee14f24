"""A system lead registers a webhook, is told plainly what is wrong with an address, sends a
test event to a receiver on this machine, and sees it delivered with the receiver's answer."""

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

from tests.browser.conftest import sign_in
from tests.conftest import build_world
from tests.webhooks.test_delivery import Receiver, _wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_lead_registers_a_webhook_and_sees_the_test_event_delivered(
    page, live_server, celery_worker_process
):
    build_world()
    receiver = Receiver([(204, {})])
    try:
        sign_in(page, "lead@example.nhs.uk")
        page.goto("/systems/s1/")
        page.get_by_role("link", name="Webhooks").click()
        expect(page.locator("#no-endpoints")).to_contain_text("No webhooks yet")

        page.get_by_label("Address").fill("http://ledger.example.nhs.uk/in")
        page.get_by_label("A plan is submitted").check()
        page.get_by_role("button", name="Register the webhook").click()
        expect(page.locator(".nhsuk-error-summary")).to_contain_text("Use an https:// address")
        expect(page.get_by_label("A plan is submitted")).to_be_checked()  # nothing lost

        page.get_by_label("Address").fill(receiver.url + "/hooks")
        page.get_by_role("button", name="Register the webhook").click()
        expect(page.get_by_role("status").first).to_contain_text("The webhook is registered")
        secret = page.locator("#secret-value").inner_text().strip()
        assert secret.startswith("whsec_")

        page.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_role("status").first).to_contain_text("A test event is on its way")
        _wait_for(lambda: len(receiver.calls) == 1, "the test event")
        call = receiver.calls[0]
        assert Webhook(secret).verify(call["body"], call["headers"])["type"] == "webhook.ping"

        def delivered() -> bool:
            page.reload()
            return page.locator("#delivery-list .nhsuk-tag--green").count() == 1

        _wait_for(delivered, "the delivery to show as delivered", limit=60)
        row = page.locator("#delivery-list tbody tr").first
        expect(row).to_contain_text("webhook.ping")
        expect(row.locator("td").nth(4)).to_have_text("204")
        sent = page.locator("#delivery-list tbody tr").nth(1)
        sent.locator("summary").click()
        expect(sent.locator(".ob-pre")).to_contain_text('"type": "webhook.ping"')
        expect(sent.locator(".ob-steps")).to_contain_text("answered 204")
    finally:
        receiver.close()
