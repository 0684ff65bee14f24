"""Wrong passwords slow an account down (1 s, 2 s, 4 s … after five), never lock it: the
owner's known browser keeps its own count, a reset ends the wait, and an address with no
account is answered the same. (Against a real gunicorn: test_signin_throttle_gunicorn.py.)"""

import re
import threading
import time

import pytest
from django.core import mail, signing
from django.test import Client

from accounts import throttle
from openbook.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
MEMBER = "member@example.nhs.uk"
SALT = "accounts.throttle.device"


def login(client, email, password):
    return client.post("/login/", {"username": email, "password": password})


def wait_asked(response) -> int:
    """The seconds the page asks to wait (and Retry-After says the same)."""
    assert response.status_code == 429
    seconds = int(re.search(r"Wait (\d+) seconds?", response.content.decode()).group(1))
    assert int(response["Retry-After"]) == seconds
    return seconds


def sleep_out(seconds: int) -> None:
    time.sleep(seconds + 0.3)


def test_after_five_wrong_passwords_each_attempt_waits_longer_and_then_the_right_one_works(world):
    client = Client()
    for _ in range(5):
        response = login(client, MEMBER, "wrong")
        assert response.status_code == 200
        assert "is not right" in response.content.decode()
    # Too soon: refused before the password is read (even the right one), and not counted.
    response = login(client, MEMBER, PASSWORD)
    assert wait_asked(response) == 1
    assert "Too many wrong passwords have been tried for this account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert throttle.failures(MEMBER) == 5
    sleep_out(1)
    assert login(client, MEMBER, "wrong").status_code == 200  # the sixth: the wait doubles
    assert 1 <= wait_asked(login(client, MEMBER, "wrong")) <= 2
    assert throttle.failures(MEMBER) == 6
    sleep_out(2)
    assert login(client, MEMBER, PASSWORD).status_code == 302  # after the wait: signed in
    assert throttle.failures(MEMBER) == 0  # and the count starts again


def test_an_address_with_no_account_is_answered_the_same(world):
    answers = {}
    for email in (MEMBER, "nobody@example.nhs.uk"):
        client = Client()
        first = login(client, email, "wrong")
        for _ in range(4):
            login(client, email, "wrong")
        refused = login(client, email, "wrong")
        answers[email] = (first.status_code, refused.status_code, wait_asked(refused))
        assert "Too many wrong passwords" in refused.content.decode()
    assert answers[MEMBER] == answers["nobody@example.nhs.uk"] == (200, 429, 1)


def test_a_strangers_wrong_passwords_do_not_slow_the_owners_own_browser(world):
    owner = Client()
    assert login(owner, MEMBER, PASSWORD).status_code == 302
    assert owner.cookies[throttle.DEVICE_COOKIE]["httponly"]
    owner.post("/logout/")
    stranger = Client()
    for _ in range(5):
        login(stranger, MEMBER, "wrong")
    assert wait_asked(login(stranger, MEMBER, PASSWORD)) >= 1
    # The owner's browser, known from the earlier sign-in, goes straight in.
    assert login(owner, MEMBER, PASSWORD).status_code == 302
    assert wait_asked(login(stranger, MEMBER, PASSWORD)) >= 1  # the stranger still waits
    # The device cookie has a count of its own: wrong passwords from it slow it too.
    owner.post("/logout/")
    for _ in range(5):
        assert login(owner, MEMBER, "wrong").status_code == 200
    assert wait_asked(login(owner, MEMBER, PASSWORD)) >= 1


def test_a_device_cookie_counts_only_for_its_own_account(world):
    browser = Client()
    assert login(browser, MEMBER, PASSWORD).status_code == 302
    browser.post("/logout/")
    for _ in range(5):
        login(Client(), "approver@example.nhs.uk", "wrong")
    # Member's device cookie is no pass for the approver's account.
    assert wait_asked(login(browser, "approver@example.nhs.uk", PASSWORD)) >= 1
    browser.cookies[throttle.DEVICE_COOKIE] = "forged:value"
    for _ in range(5):
        login(Client(), MEMBER, "wrong")
    assert wait_asked(login(browser, MEMBER, PASSWORD)) >= 1


def test_a_shared_computer_is_known_for_each_person_who_signed_in_on_it(world):
    shared = Client()
    for email in (MEMBER, "approver@example.nhs.uk"):
        assert login(shared, email, PASSWORD).status_code == 302
        shared.post("/logout/")
    held = str(signing.loads(shared.cookies[throttle.DEVICE_COOKIE].value, salt=SALT))
    assert "member" not in held and "approver" not in held  # no addresses in it, hashes
    for email in (MEMBER, "approver@example.nhs.uk"):
        for _ in range(5):
            login(Client(), email, "wrong")
        assert login(shared, email, PASSWORD).status_code == 302
        shared.post("/logout/")


def test_a_password_reset_ends_the_wait(world):
    for _ in range(8):
        login(Client(), MEMBER, "wrong")
    assert wait_asked(login(Client(), MEMBER, PASSWORD)) >= 1
    Client().post("/password/reset/", {"email": MEMBER})
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    form = client.get(link, follow=True)
    new = "reset passphrase that is long"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert login(Client(), MEMBER, new).status_code == 302


def test_a_reset_signs_in_and_the_browser_is_known_from_then_on(world):
    """A stranger still guessing cannot keep the owner waiting in the browser they reset in."""
    Client().post("/password/reset/", {"email": MEMBER})
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    form = client.get(link, follow=True)
    new = "reset passphrase that is long"
    client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert "_auth_user_id" in client.session
    assert throttle.DEVICE_COOKIE in client.cookies
    client.post("/logout/")
    for _ in range(8):
        login(Client(), MEMBER, "wrong")
    assert login(client, MEMBER, new).status_code == 302


def test_a_look_alike_spelling_of_the_address_shares_its_count(world):
    """PostgreSQL finds the account for "nhſ" (long s) and "ı" (dotless i) as for "nhs" and
    "i"; before, each spelling had five free guesses of its own."""
    for _ in range(5):
        login(Client(), MEMBER, "wrong")
    look_alike = MEMBER.replace("nhs", "nhſ")
    assert wait_asked(login(Client(), look_alike, "wrong")) >= 1


def test_with_redis_away_the_throttle_steps_aside(world, settings):
    """Before, a password change rolled back and every attempt was a server error. (Sessions
    are in the cache too, so signing in itself still needs Redis.)"""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # fmt: skip
    assert throttle.claim(MEMBER, None).allowed
    throttle.clear(MEMBER, None)
    throttle.forget(MEMBER)  # a password change goes through


def test_a_wait_is_audited_once_not_at_every_refusal(world):
    client = Client()
    for _ in range(5):
        login(client, MEMBER, "wrong")
    for _ in range(3):
        wait_asked(login(client, MEMBER, PASSWORD))
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5
    event = AuditEvent.objects.get(action="auth.login_throttled")
    assert event.payload["attempted"] == MEMBER
    assert event.payload["wait_seconds"] == 1
    assert event.payload["ip"] == "127.0.0.1"


def test_the_admin_sign_in_is_throttled_too(world):
    client = Client()
    admin_login = "/admin/login/?next=/admin/"
    for _ in range(5):
        client.post(admin_login, {"username": "admin@example.nhs.uk", "password": "wrong"})
    response = client.post(admin_login, {"username": "admin@example.nhs.uk", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert throttle.failures("admin@example.nhs.uk") == 5


def test_attempts_at_once_never_get_more_tries_than_the_rules_allow(world):
    """Twenty attempts at the same moment once the free ones are used: one is let through to
    the password check, every other is told to wait (one Lua script claims each attempt)."""
    for _ in range(5):
        throttle.claim(MEMBER, None)
    time.sleep(1.3)
    barrier = threading.Barrier(20)
    outcomes = []

    def attempt():
        barrier.wait(timeout=30)
        outcomes.append(throttle.claim(MEMBER, None).allowed)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [False] * 19 + [True]
