"""The system lead hears that a plan waits on them: the count in the header, the list, and the
notification leads to the plan and is then read; their e-mail choices are theirs to set."""

import pytest
from playwright.sync_api import expect

from tests import isolation
from tests.browser.conftest import sign_in
from tests.conftest import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_lead_follows_a_notification_to_the_plan(page, live_server):
    world = build_world()
    isolation._plans_submitted(world)
    sign_in(page, "lead@example.nhs.uk")
    header = page.locator("#header-notifications")
    expect(header).to_have_text("Notifications 1 unread")
    header.click()
    notification = page.get_by_role("link", name="Alpha Hospitals NHS Trust: plan version 1 "
                                    "waiting for your decision")  # fmt: skip
    expect(page.locator("#notifications li").first).to_contain_text("New")
    notification.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alpha Hospitals NHS Trust")
    expect(page.locator("#evidence")).to_be_visible()
    expect(page.locator("#header-notifications")).to_have_text("Notifications")

    page.goto("/notifications/settings/")
    page.get_by_role("group", name="A plan submitted for the system lead's decision").get_by_label(
        "E-mail me a daily digest"
    ).check()
    page.get_by_role("button", name="Save your choices").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    expect(
        page.get_by_role(
            "group", name="A plan submitted for the system lead's decision"
        ).get_by_label("E-mail me a daily digest")
    ).to_be_checked()
    assert page.console_errors == []
