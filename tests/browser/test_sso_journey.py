"""Single sign-on in a real browser against a real OpenID Connect provider (oidc-provider on
127.0.0.1): someone invited follows the e-mail's link, signs in with their NHS account, and
comes back to Openbook with their account made and their role; someone already known signs in
from the sign-in page's button."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts import invitations
from accounts.models import Membership, Role, User
from tests import oidc
from tests.conftest import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW = "new.starter@nhs.net"


@pytest.fixture
def provider(live_server, tmp_path, settings):
    accounts = {NEW: oidc.account(NEW, name="New Starter"),
                "member@example.nhs.uk": oidc.account("member@example.nhs.uk")}  # fmt: skip
    started = oidc.start(tmp_path, accounts, [f"{live_server.url}/sso/callback/"])
    for name, value in started.settings().items():
        setattr(settings, name, value)
    yield started
    oidc.stop(started)


def _at_provider(page, email):
    expect(page.get_by_role("heading", level=1)).to_have_text("Local identity provider")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(oidc.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_invited_then_known(page, provider):
    world = build_world()
    invitations.invitation_create(
        actor=world.people["approver"], email=NEW, role=Role.ORG_PREPARER,
        organisation=world.org_a,
    )  # fmt: skip
    # The link from the e-mail, sent as the invitation committed.
    link = re.search(r"/invitations/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in with NHS.net to accept").click()
    _at_provider(page, NEW)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, New")
    user = User.objects.get(email=NEW)
    assert Membership.objects.filter(user=user, role=Role.ORG_PREPARER, organisation=world.org_a)

    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_role("button", name="Sign in with NHS.net").click()
    _at_provider(page, "member@example.nhs.uk")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Member")
    assert page.console_errors == []
