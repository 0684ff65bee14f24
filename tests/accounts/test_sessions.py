"""A person's sessions page: every browser they are signed in with, and signing the others out."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import UserSession
from accounts.useragents import describe_user_agent
from openbook.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")  # fmt: skip
EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")  # fmt: skip


def signed_in(email: str, user_agent: str, address: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = client.post("/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def test_browsers_are_told_apart():
    assert describe_user_agent(FIREFOX) == "Firefox on Windows"
    assert describe_user_agent(SAFARI) == "Safari on iPhone"
    assert describe_user_agent(EDGE) == "Edge on Windows"
    assert describe_user_agent("") == "Unknown browser"


def test_the_page_lists_each_browser_and_marks_this_one(world):
    office = signed_in("member@example.nhs.uk", FIREFOX, "10.1.2.3")
    phone = signed_in("member@example.nhs.uk", SAFARI, "10.9.8.7")
    signed_in("partner@example.nhs.uk", EDGE, "10.5.5.5")  # someone else's: never shown
    page = office.get("/account/sessions/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Firefox on Windows" in html and "10.1.2.3" in html
    assert "Safari on iPhone" in html and "10.9.8.7" in html
    assert "Edge" not in html and "10.5.5.5" not in html
    assert html.count("This browser") == 1
    row = re.search(r"<tr[^>]*>((?:(?!</tr>).)*This browser(?:(?!</tr>).)*)</tr>", html, re.S)
    assert "Firefox" in row.group(1) and "Sign out of this one" not in row.group(1)
    assert "Sign out everywhere else" in html
    assert phone.get("/account/sessions/").content.decode().count("Sign out of this one") == 1


def test_sign_out_everywhere_else_ends_the_other_browsers_and_keeps_this_one(world):
    member = world.people["member"]
    office = signed_in("member@example.nhs.uk", FIREFOX, "10.1.2.3")
    phone = signed_in("member@example.nhs.uk", SAFARI, "10.9.8.7")
    partner = signed_in("partner@example.nhs.uk", EDGE, "10.5.5.5")
    assert phone.get("/organisations/").status_code == 200
    response = office.post("/account/sessions/sign-out-others/")
    assert response.status_code == 302 and response["Location"] == "/account/sessions/"
    gone = phone.get("/organisations/")
    assert gone.status_code == 302 and gone["Location"].startswith("/login/")
    assert office.get("/organisations/").status_code == 200
    assert partner.get("/organisations/").status_code == 200  # another person's: untouched
    assert UserSession.objects.filter(user=member).count() == 1
    assert Session.objects.filter(session_key=phone.session.session_key).count() == 0
    event = AuditEvent.objects.get(action="sessions.ended_elsewhere")
    assert event.actor_label == "member@example.nhs.uk"
    assert [s["device"] for s in event.payload["ended"]] == ["Safari on iPhone"]
    page = office.get("/account/sessions/").content.decode()
    assert "Safari" not in page and "You are not signed in anywhere else" in page


def test_sign_out_of_one_ends_only_that_one(world):
    office = signed_in("member@example.nhs.uk", FIREFOX, "10.1.2.3")
    phone = signed_in("member@example.nhs.uk", SAFARI, "10.9.8.7")
    laptop = signed_in("member@example.nhs.uk", EDGE, "10.4.4.4")
    phone_row = UserSession.objects.get(session_key=phone.session.session_key)
    response = office.post(f"/account/sessions/{phone_row.pk}/sign-out/")
    assert response.status_code == 302
    assert phone.get("/organisations/").status_code == 302
    assert laptop.get("/organisations/").status_code == 200
    assert office.get("/organisations/").status_code == 200
    assert AuditEvent.objects.get(action="session.ended").payload["device"] == "Safari on iPhone"


def test_another_person_s_session_is_not_found_and_stays(world):
    phone = signed_in("member@example.nhs.uk", SAFARI, "10.9.8.7")
    partner = signed_in("partner@example.nhs.uk", EDGE, "10.5.5.5")
    row = UserSession.objects.get(session_key=phone.session.session_key)
    assert partner.post(f"/account/sessions/{row.pk}/sign-out/").status_code == 404
    assert phone.get("/organisations/").status_code == 200
    row.refresh_from_db()


def test_signing_out_removes_the_row_and_a_changed_password_hides_the_others(world):
    office = signed_in("member@example.nhs.uk", FIREFOX, "10.1.2.3")
    phone = signed_in("member@example.nhs.uk", SAFARI, "10.9.8.7")
    phone.post("/logout/")
    assert UserSession.objects.filter(user=world.people["member"]).count() == 1
    signed_in("member@example.nhs.uk", SAFARI, "10.9.8.7")
    new = "a much longer new password 2026"
    response = office.post("/password/change/", {"old_password": PASSWORD,
                           "new_password1": new, "new_password2": new})  # fmt: skip
    assert response.status_code == 302
    # The password change gave this browser a new session key: it is still listed as this one,
    # and the phone (whose session no longer signs anyone in) is not.
    page = office.get("/account/sessions/").content.decode()
    assert "This browser" in page and "Firefox" in page
    assert "Safari" not in page


def test_the_csrf_token_is_needed(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.people["member"])
    assert client.post("/account/sessions/sign-out-others/").status_code == 403


def test_signing_in_again_in_the_same_browser_lists_it_once(world):
    office = signed_in("member@example.nhs.uk", FIREFOX, "10.1.2.3")
    office.force_login(world.people["member"])  # a second sign-in, in the same session
    assert UserSession.objects.filter(user=world.people["member"]).count() == 1
    assert office.get("/account/sessions/").content.decode().count("This browser") == 1


def test_the_page_s_queries_do_not_grow_with_the_sessions(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    office = signed_in("member@example.nhs.uk", FIREFOX, "10.1.2.3")
    signed_in("member@example.nhs.uk", SAFARI, "10.9.8.7")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert office.get("/account/sessions/").status_code == 200
        return len(captured)

    count()
    fewer = count()
    for n in range(4):
        signed_in("member@example.nhs.uk", f"{EDGE} {n}", f"10.4.4.{n}")
    count()
    assert count() == fewer
