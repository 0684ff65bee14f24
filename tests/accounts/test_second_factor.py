"""Two-step verification: setting up an authenticator, the code after a password, recovery
codes, the throttle on wrong codes, removing and resetting, and who must use it. Against the
real pieces: django-otp's devices in PostgreSQL, the session store, Redis, the audit trail."""

import re
import time
from binascii import unhexlify
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import devices, policy, second_factor
from accounts.views_second_factor import NEW_CODES, NEW_KEY
from openbook.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.second_factor]
ROOT = Path(__file__).resolve().parents[2]


def code(key_hex: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for this secret, now or a step (30 s) later."""
    totp = TOTP(unhexlify(key_hex))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def password_sign_in(email: str, next_url: str = "") -> tuple[Client, object]:
    client = Client()
    response = client.post("/login/", {"username": email, "password": PASSWORD, "next": next_url})
    assert response.status_code == 302, response.content[:400]
    return client, response


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """Set up through the service, as the page does."""
    key = devices.new_key()
    outcome, codes = devices.set_up(actor=user, key=key, code=code(key))
    assert outcome.ok
    return TOTPDevice.objects.get(user=user), codes


def actions(user) -> list[str]:
    return list(AuditEvent.objects.filter(object_id=str(user.pk), action__startswith="second_factor")
                .order_by("id").values_list("action", flat=True))  # fmt: skip


# --- who must use it ----------------------------------------------------------------------


@pytest.mark.parametrize(("person", "needs"), [
    ("member", False), ("viewer", False), ("partner", False), ("system_viewer", False),
    ("approver", True), ("lead", True), ("reviewer", True), ("admin", True),
])  # fmt: skip
def test_the_roles_that_act_need_it(world, person, needs):
    assert policy.needs_second_factor(world.people[person]) is needs


def test_everyone_needs_it_when_an_administrator_says_so(world, settings):
    member, admin = world.people["member"], world.people["admin"]
    assert not policy.needs_second_factor(member)
    settings.SECOND_FACTOR_FOR_EVERYONE = True  # the default until an administrator chooses
    second_factor.forget_everyone_setting()
    assert policy.needs_second_factor(member)
    admin.second_factor_method = "totp"
    devices.everyone_set(actor=admin, required=False)
    assert not policy.needs_second_factor(member)
    event = AuditEvent.objects.get(action="settings.second_factor_for_everyone")
    assert (event.before, event.after) == ({"everyone": True}, {"everyone": False})


def test_changing_who_needs_it_takes_the_administrators_own_second_factor(world):
    admin = world.people["admin"]
    with pytest.raises(policy.SecondFactorRequired):
        devices.everyone_set(actor=admin, required=True)
    assert not second_factor.required_of_everyone()


def test_the_requirement_switched_off_asks_no_one(world, settings):
    settings.SECOND_FACTOR_REQUIRED = False
    assert not policy.needs_second_factor(world.people["approver"])


def test_only_the_demo_acts_unattended():
    """`unattended()` lets an act through without a code: only the operators' seeds use it."""
    users = [p.relative_to(ROOT) for app in ("accounts", "plans", "payments", "openbook",
                                             "notifications", "webhooks")
             for p in (ROOT / app).rglob("*.py") if re.search(r"\bunattended\(", p.read_text())]  # fmt: skip
    assert users == [Path("accounts/second_factor.py")]


# --- the contract other sign-ins use -------------------------------------------------------


def test_mark_verified_records_the_method_and_cycles_nothing(world, rf):
    client, _ = password_sign_in("member@example.nhs.uk")
    key_before = client.session.session_key
    request = rf.get("/")
    request.session = client.session
    request.user = world.people["member"]
    second_factor.mark_verified(request, "identity-provider")
    request.session.save()
    assert request.session.session_key == key_before
    assert second_factor.method_of(request) == "identity-provider"
    assert policy.has_second_factor(request.user)
    with pytest.raises(ValueError):
        second_factor.mark_verified(request, "sms")
    # Another person signed in to the same session does not inherit the mark.
    request.user = world.people["partner"]
    assert second_factor.method_of(request) is None


def test_a_new_sign_in_starts_without_a_second_factor(world):
    client, _ = password_sign_in("approver@example.nhs.uk")
    session = client.session
    session[second_factor.SESSION_KEY] = {"user": str(world.people["approver"].pk),
                                          "method": "totp", "at": "x"}  # fmt: skip
    session.save()
    client.force_login(world.people["approver"])  # signing in again, in the same browser
    assert second_factor.SESSION_KEY not in client.session


# --- setting up ----------------------------------------------------------------------------


def test_set_up_with_the_qr_code_confirm_and_see_the_codes_once(world):
    approver = world.people["approver"]
    client, _ = password_sign_in("approver@example.nhs.uk")
    page = client.get("/account/two-step/set-up/?next=/rounds/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in html and 'alt="QR code' in html
    key = client.session[NEW_KEY]
    assert devices.key_for_people(key) in html
    assert not TOTPDevice.objects.filter(user=approver).exists()  # nothing kept until confirmed

    no_password = client.post("/account/two-step/set-up/", {"code": code(key)})
    assert no_password.status_code == 422 and not TOTPDevice.objects.filter(user=approver)
    wrong = client.post("/account/two-step/set-up/?next=/rounds/",
                        {"code": "000000", "password": PASSWORD})  # fmt: skip
    assert wrong.status_code == 422 and "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=approver).exists()

    done = client.post("/account/two-step/set-up/",
                       {"code": code(key), "next": "/rounds/", "password": PASSWORD})  # fmt: skip
    assert done["Location"] == "/account/two-step/recovery-codes/?next=%2Frounds%2F"
    device = TOTPDevice.objects.get(user=approver)
    assert device.confirmed and device.key == key
    shown = client.get(done["Location"])
    codes = list(StaticToken.objects.filter(device__user=approver).values_list("token", flat=True))
    assert len(codes) == 10 and all(c in shown.content.decode() for c in codes)
    assert 'href="/rounds/"' in shown.content.decode()
    assert client.get("/account/two-step/recovery-codes/").status_code == 302  # once only
    assert NEW_CODES not in client.session
    overview = client.get("/account/two-step/").content.decode()
    assert "Confirmed with a security code" in overview and "10 of 10 unused" in overview
    assert actions(approver) == ["second_factor.set_up"]


def test_the_code_used_to_set_up_cannot_be_used_again(world):
    device, _ = enrolled(world.people["approver"])
    outcome = devices.code_check(actor=world.people["approver"], code=code(device.key))
    assert not outcome.ok


# --- signing in ----------------------------------------------------------------------------


def test_password_then_code_then_where_they_were_going(world):
    approver = world.people["approver"]
    device, _ = enrolled(approver)
    client, response = password_sign_in("approver@example.nhs.uk", "/organisations/")
    assert response["Location"] == "/account/two-step/verify/?next=%2Forganisations%2F"
    # Nothing else until the code: pages send it back, the API refuses.
    assert client.get("/organisations/")["Location"].startswith("/account/two-step/verify/")
    assert client.get("/account/tokens/")["Location"].startswith("/account/two-step/verify/")
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and api.json()["error"]["code"] == "second_factor_required"
    page = client.get(response["Location"])
    assert "Enter your security code" in page.content.decode()
    wrong = client.post(response["Location"], {"code": "123 456"})
    assert wrong.status_code == 422 and "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_timestamp -= timedelta(seconds=5)  # the wait is over
    device.save()
    right = client.post(response["Location"], {"code": code(device.key, steps_ahead=1)})
    assert right["Location"] == "/organisations/"
    assert client.get("/organisations/").status_code == 200
    assert actions(approver) == ["second_factor.set_up", "second_factor.failed",
                                 "second_factor.verified"]  # fmt: skip


def test_sign_out_works_before_the_code(world):
    enrolled(world.people["approver"])
    client, _ = password_sign_in("approver@example.nhs.uk")
    assert client.post("/logout/").status_code == 200
    assert "_auth_user_id" not in client.session


def test_wrong_codes_slow_the_device_down(world):
    approver = world.people["approver"]
    device, _ = enrolled(approver)
    client, _ = password_sign_in("approver@example.nhs.uk")
    client.post("/account/two-step/verify/", {"code": "000000"})
    # The right code straight after a wrong one waits its second: refused unread.
    refused = client.post("/account/two-step/verify/", {"code": code(device.key, 1)})
    assert refused.status_code == 422
    assert "Too many wrong codes have been tried. Wait 1 second" in refused.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert device.get_throttle_factor() == 1  # django-otp's throttle is on


def test_a_recovery_code_works_once(world):
    approver = world.people["approver"]
    _, codes = enrolled(approver)
    client, _ = password_sign_in("approver@example.nhs.uk")
    used = client.post("/account/two-step/verify/", {"code": codes[0].upper(), "next": "/rounds/"})
    assert used["Location"] == "/rounds/"
    assert "You have 9 left" in client.get("/rounds/").content.decode()
    assert client.get("/account/two-step/").content.decode().count("Confirmed with a recovery code")
    event = AuditEvent.objects.get(action="second_factor.recovery_used")
    assert event.payload == {"codes_left": 9}

    again, _ = password_sign_in("approver@example.nhs.uk")
    refused = again.post("/account/two-step/verify/", {"code": codes[0]})
    assert refused.status_code == 422 and "That code is not right" in refused.content.decode()
    assert again.get("/rounds/").status_code == 302


# --- recovery codes, removing, resetting -----------------------------------------------------


def test_new_recovery_codes_replace_the_old_and_need_the_second_factor(world):
    approver = world.people["approver"]
    _, old = enrolled(approver)
    with pytest.raises(policy.SecondFactorRequired):
        devices.recovery_codes_replace(actor=approver)
    approver.second_factor_method = "totp"
    new = devices.recovery_codes_replace(actor=approver)
    assert len(new) == 10 and not set(new) & set(old)
    assert devices.recovery_codes_left(approver) == 10
    assert "second_factor.codes_replaced" in actions(approver)


def test_removing_takes_the_password_and_ends_the_other_sessions(world):
    approver = world.people["approver"]
    device, _ = enrolled(approver)
    elsewhere, _ = password_sign_in("approver@example.nhs.uk")
    client, _ = password_sign_in("approver@example.nhs.uk")
    client.post("/account/two-step/verify/", {"code": code(device.key, 1)})
    wrong = client.post("/account/two-step/remove/", {"password": "not it"})
    assert wrong.status_code == 422 and "That is not your password" in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=approver).exists()
    done = client.post("/account/two-step/remove/", {"password": PASSWORD})
    # Their role needs it: straight on to set it up again.
    assert done["Location"] == "/account/two-step/set-up/"
    assert not TOTPDevice.objects.filter(user=approver).exists()
    assert not StaticDevice.objects.filter(user=approver).exists()
    assert elsewhere.get("/organisations/")["Location"].startswith("/login/")
    assert "second_factor.removed" in actions(approver)


def test_an_administrator_resets_a_lost_second_factor(world, client_for):
    approver, admin = world.people["approver"], world.people["admin"]
    enrolled(approver)
    person, _ = password_sign_in("approver@example.nhs.uk")
    admin_client = client_for(admin)
    url = "/admin/accounts/user/"
    form = {"action": "reset_second_factor", "_selected_action": [approver.pk]}
    # The administration pages themselves ask for the administrator's own code first.
    assert admin_client.get(url)["Location"].startswith("/account/two-step/set-up/")
    session = admin_client.session
    session[second_factor.SESSION_KEY] = {"user": str(admin.pk), "method": "totp", "at": "x"}
    session.save()
    assert admin_client.post(url, form).status_code == 302
    assert not TOTPDevice.objects.filter(user=approver).exists()
    assert person.get("/organisations/")["Location"].startswith("/login/")
    event = AuditEvent.objects.get(action="second_factor.reset")
    assert event.actor_id == admin.pk and event.payload["had_authenticator"] is True


def test_the_device_admin_pages_are_gone(world):
    from django.contrib import admin

    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)


# --- before an act ---------------------------------------------------------------------------


def test_the_page_says_before_the_click_and_sends_back_after(world, client_for):
    from tests.isolation.plans import _plans_submitted

    with second_factor.unattended("the test's set-up"):
        _plans_submitted(world)
    approver = world.people["approver"]
    client = client_for(approver)
    plan = f"/rounds/2026-27/{world.org_a.ods_code}/"
    assert (
        "You'll be asked to set up two-step verification first" in client.get(plan).content.decode()
    )
    # A form sent from the plan page comes back to it.
    response = client.post(plan + "recall/", HTTP_REFERER=f"http://testserver{plan}")
    assert response["Location"] == "/account/two-step/set-up/?next=" + plan.replace("/", "%2F")
    set_up = client.get(response["Location"]).content.decode()
    assert "To recall the plan you need two-step verification" in set_up
    device, _ = enrolled(approver)
    assert "You'll be asked for your security code first" in client.get(plan).content.decode()
    client.post("/account/two-step/verify/", {"code": code(device.key, 1)})
    assert "You'll be asked" not in client.get(plan).content.decode()


def test_a_token_made_after_the_code_carries_it(world, client_for):
    approver = world.people["approver"]
    client = client_for(approver)
    client.post("/account/tokens/", {"name": "before", "lifetime_days": "30"})
    device, _ = enrolled(approver)
    client.post("/account/two-step/verify/", {"code": code(device.key, 1)})
    client.post("/account/tokens/", {"name": "after", "lifetime_days": "30"})
    made = dict(approver.auth_token_set.values_list("name", "second_factor"))
    assert made == {"before": "", "after": "totp"}
    html = client.get("/account/tokens/").content.decode()
    assert "cannot sign, submit or decide" in html


def test_everyone_is_sent_to_set_up_at_sign_in_when_required(world, settings):
    settings.SECOND_FACTOR_FOR_EVERYONE = True
    second_factor.forget_everyone_setting()
    client, _ = password_sign_in("member@example.nhs.uk")
    response = client.get("/organisations/")
    assert response["Location"] == "/account/two-step/set-up/?next=%2Forganisations%2F"
    assert client.get("/account/two-step/set-up/").status_code == 200
    key = client.session[NEW_KEY]
    client.post("/account/two-step/set-up/", {"code": code(key), "password": PASSWORD})
    assert client.get("/organisations/").status_code == 200
    assert TOTPDevice.objects.get(user=world.people["member"]).confirmed


@pytest.mark.parametrize("junk", ["", "abc", "\uff19" * 6, "x" * 5000, "1e999", "-0",
                                  "<script>", "9" * 40, " 1 2 3 "])  # fmt: skip
def test_junk_codes_are_refused_in_words(world, junk):
    approver = world.people["approver"]
    client, _ = password_sign_in("approver@example.nhs.uk")
    assert client.post("/account/two-step/set-up/", {"code": junk}).status_code == 422
    enrolled(approver)
    client.force_login(approver)  # signed in again: the code is asked for
    response = client.post("/account/two-step/verify/", {"code": junk})
    assert response.status_code == 422
    assert "There is a problem" in response.content.decode()


# --- what a stolen session alone cannot do -----------------------------------------------------


def test_an_authorization_header_does_not_let_a_session_past_its_code(world):
    approver = world.people["approver"]
    enrolled(approver)
    client, _ = password_sign_in("approver@example.nhs.uk")  # waiting for the code
    for path in ("/organisations/", "/api/v1/me/", "/admin/accounts/user/"):
        response = client.get(path, HTTP_AUTHORIZATION="x")
        assert response.status_code in (302, 403), (path, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/account/two-step/verify/"), path


def test_new_codes_and_removal_ask_for_a_fresh_code(world, settings):
    approver = world.people["approver"]
    device, _ = enrolled(approver)
    client, _ = password_sign_in("approver@example.nhs.uk")
    client.post("/account/two-step/verify/", {"code": code(device.key, 1)})
    session = client.session
    session[second_factor.SESSION_KEY]["at"] = "2020-01-01T00:00:00+00:00"  # long ago
    session.save()
    for response in (client.post("/account/two-step/recovery-codes/new/"),
                     client.get("/account/two-step/remove/")):  # fmt: skip
        assert response.status_code == 302
        assert response["Location"].startswith("/account/two-step/verify/?again=1"), response
    assert "second_factor.codes_replaced" not in actions(approver)
    # The code page asks even though the session has a second factor, then back.
    again = client.get("/account/two-step/verify/?again=1&next=/account/two-step/remove/")
    assert again.status_code == 200
    done = client.post("/account/two-step/verify/?again=1&next=/account/two-step/remove/",
                       {"code": code(device.key, 2)})  # fmt: skip
    assert done["Location"] == "/account/two-step/remove/"
    assert client.get("/account/two-step/remove/").status_code == 200


def test_removing_or_resetting_takes_the_second_factor_from_tokens(world):
    approver = world.people["approver"]
    device, _ = enrolled(approver)
    from accounts.models import PersonalToken
    from accounts.services import token_create

    token, _ = token_create(actor=approver, name="script", lifetime_days=30)
    PersonalToken.objects.filter(pk=token.pk).update(second_factor="totp")
    approver.second_factor_method = "totp"
    devices.remove(actor=approver, password=PASSWORD, keep_session_key=None)
    assert PersonalToken.objects.get(pk=token.pk).second_factor == ""
    enrolled(approver)
    PersonalToken.objects.filter(pk=token.pk).update(second_factor="totp")
    admin = world.people["admin"]
    admin.second_factor_method = "totp"
    devices.reset(actor=admin, user=approver)
    assert PersonalToken.objects.get(pk=token.pk).second_factor == ""
