"""The sign-in throttle against a real gunicorn, started as production starts it
(deploy/gunicorn.conf.py: its worker count and threads) with production's password hasher,
against the test database and Redis: a stranger hammering the victim's account from the
victim's own address cannot keep the victim out, and what it sends during a wait is refused
without the password being checked."""

import re
import statistics
import threading
import time

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from accounts import throttle
from accounts.models import User
from tests.conftest import build_world
from tests.servers import Browser, gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
__all__ = ["gunicorn"]  # the fixture, used by name

PASSWORD = "correct horse battery staple"
VICTIM = "member@example.nhs.uk"


def _refused(response: httpx.Response) -> int:
    assert response.status_code == 429, response.status_code
    seconds = int(re.search(r"Wait (\d+) seconds?", response.text).group(1))
    assert int(response.headers["Retry-After"]) == seconds
    return seconds


def test_a_stranger_hammering_an_account_cannot_keep_its_owner_out(gunicorn):
    base, workers, master = gunicorn
    build_world()
    hasher = PBKDF2PasswordHasher()  # what production stores, so a check costs what it does
    User.objects.filter(email=VICTIM).update(password=hasher.encode(PASSWORD, hasher.salt()))
    assert len(master.children()) == workers  # the production config's worker count

    # The victim signed in from this browser before: it holds a device cookie.
    owner = Browser(base)
    response, _ = owner.sign_in(VICTIM, PASSWORD)
    assert response.status_code == 302
    assert throttle.DEVICE_COOKIE in owner.http.cookies
    owner.sign_out()

    # A stranger at the same address (the NHS site's one address), writing X-Forwarded-For
    # itself to look like many: five wrong passwords are checked, each a full PBKDF2 check.
    stranger = Browser(base, forwarded_for="198.51.100.77")
    checked = []
    for _ in range(5):
        response, took = stranger.sign_in(VICTIM, "guess-one-two-three")
        assert response.status_code == 200 and "is not right" in response.text
        checked.append(took)
    assert throttle.failures(VICTIM) == 5

    # Now within the wait: refused before the password is read, however many workers answer.
    refused, through = [], 0
    for _ in range(5):
        response, took = stranger.sign_in(VICTIM, "guess-four-five-six")
        if response.status_code == 429:
            refused.append(took)
        else:
            through += 1  # the machine so slow that a wait ended between two attempts
    assert refused, "every attempt came after the wait: the machine is far too slow to tell"
    # Refused attempts were not counted: only those let through to the password were.
    assert throttle.failures(VICTIM) == 5 + through

    # The stranger hammers from several threads (over every worker) for a while ...
    stop = threading.Event()
    outcomes: list[int] = []

    def hammer():
        browser = Browser(base, forwarded_for="203.0.113.9")
        while not stop.is_set():
            outcomes.append(browser.sign_in(VICTIM, "another-guess-here")[0].status_code)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(3)
    # ... and meanwhile the owner's known browser signs in straight away.
    response, _ = owner.sign_in(VICTIM, PASSWORD)
    assert response.status_code == 302
    assert owner.http.get("/").status_code == 200
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join(timeout=180)
    hammered = time.monotonic() - started
    let_through = outcomes.count(200)
    assert outcomes.count(429) + let_through == len(outcomes)
    # Only attempts let through were counted; each doubled the wait for the next, so over
    # the hammering only a handful could be (1 s, 2 s, 4 s …).
    assert throttle.failures(VICTIM) == 5 + through + let_through
    assert through + let_through <= 2 + int(hammered + 10).bit_length()
    assert outcomes.count(429) > 2 * let_through  # nearly all refused unread

    # The owner on another browser, no device cookie: told to wait, then signs in.
    elsewhere = Browser(base)
    response, _ = elsewhere.sign_in(VICTIM, PASSWORD)
    if response.status_code != 302:
        time.sleep(_refused(response) + 0.5)
        response, _ = elsewhere.sign_in(VICTIM, PASSWORD)
    assert response.status_code == 302
    assert throttle.failures(VICTIM) == 0  # the right password started the count again

    median_checked, median_refused = statistics.median(checked), statistics.median(refused)
    print(f"\n{workers} workers; wrong password checked: median {median_checked * 1000:.0f} ms; "
          f"refused in a wait: median {median_refused * 1000:.0f} ms; stranger's attempts "
          f"while hammering {len(outcomes)}, {let_through} reached the password check, "
          f"over {hammered:.1f} s")  # fmt: skip
    # A refusal reads no password: far cheaper than a PBKDF2 check (a generous ratio).
    assert median_refused * 3 < median_checked
