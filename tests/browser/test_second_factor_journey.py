"""An approver goes to submit their plan and is sent to set up two-step verification first:
scans (here: reads) the key, confirms with a code, keeps the recovery codes, and comes back to
the submit form. Signing in again asks for the code after the password; a recovery code works
once, and the second time it is refused. With the keyboard alone, as far as the code."""

import os
import time
from base64 import b32decode
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from accounts import second_factor
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, build_world
from tests.isolation.plans import _plans_returned

pytestmark = [pytest.mark.browser, pytest.mark.second_factor,
              pytest.mark.django_db(transaction=True)]  # fmt: skip
SHOTS = os.environ.get("OPENBOOK_SCREENSHOTS")  # a folder: pages saved there at 1280 px


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def code_for(key_text: str, steps_ahead: int = 0) -> str:
    """What the authenticator app shows for the key the page gave, now or a step later."""
    secret = b32decode(key_text.replace(" ", ""))
    totp = TOTP(secret)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")


def test_set_up_before_submitting_then_sign_in_with_codes(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 900})
    world = build_world()
    with second_factor.unattended("the test's set-up"):
        _plans_returned(world)
    plan = "/rounds/2026-27/ZA1/"

    sign_in(page, "approver@example.nhs.uk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Approver")
    page.goto(plan)
    expect(
        page.get_by_text("You'll be asked to set up two-step verification first")
    ).to_be_visible()
    shot(page, "plan-hint")
    page.get_by_role("link", name="Submit the plan").click()

    # Sent to set up, told why, with the way back kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step verification")
    expect(page.get_by_text("To submit the plan you need two-step verification")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for adding Openbook")).to_be_visible()
    shot(page, "set-up")
    key = page.locator("#setup-key").inner_text()
    page.get_by_label("Security code").fill("000000")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("That code is not right")
    page.get_by_label("Security code").fill(code_for(key))
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm and turn on").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    shot(page, "recovery-codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Submit")
    assert page.url.endswith(plan + "submit/")
    sign_out(page)

    # Password, then the code the app shows (the next one: the first cannot be used twice).
    # With the keyboard: the field is the first thing after the page's links and header.
    sign_in(page, "approver@example.nhs.uk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    shot(page, "verify")
    field = page.get_by_label("Security code")
    for _ in range(40):
        if field.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(field).to_be_focused()
    page.keyboard.type(code_for(key, steps_ahead=1))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Approver")
    page.goto("/account/two-step/")
    expect(page.locator("#second-factor-status")).to_contain_text("Confirmed with a security code")
    shot(page, "overview")
    sign_out(page)

    # A recovery code instead of the app: once.
    sign_in(page, "approver@example.nhs.uk")
    page.get_by_label("Security code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You used a recovery code")).to_contain_text("You have 9 left")
    sign_out(page)
    sign_in(page, "approver@example.nhs.uk")
    page.get_by_label("Security code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("That code is not right")
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    shot(page, "verify-refused")
    # Still nowhere else until a right code.
    page.goto("/organisations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    errors = [e for e in page.console_errors if "status of 422" not in e]
    assert errors == []
