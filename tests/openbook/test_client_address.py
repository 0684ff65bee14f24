"""The client's address: X-Forwarded-For is believed only from a configured trusted proxy, and
then read from the right, so a client writing the header itself changes nothing."""

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from openbook.client_address import client_address
from openbook.models import AuditEvent

PASSWORD = "correct horse battery staple"


def request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.10"]
    # What the client wrote itself (left) is not believed; what our proxies appended is.
    assert client_address(request("10.0.0.5", "1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    assert client_address(request("10.0.0.5", "6.6.6.6, 198.51.100.9, 192.0.2.10")) == (
        "198.51.100.9"
    )
    # A header spread over several lines arrives joined with commas; spaces do not matter.
    assert client_address(request("10.0.0.5", "  203.0.113.8 ")) == "203.0.113.8"
    # Nothing forwarded: the proxy itself is all that is known.
    assert client_address(request("10.0.0.5")) == "10.0.0.5"
    # Garbage stops the walk at the last hop that can be vouched for.
    assert client_address(request("10.0.0.5", "203.0.113.7, not-an-address")) == "10.0.0.5"


def test_a_client_port_written_by_the_proxy_is_read_past(settings):
    """Before, "a.b.c.d:port" ended the walk and every client was taken for the proxy."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request("10.0.0.5", "203.0.113.7:51234")) == "203.0.113.7"
    assert client_address(request("10.0.0.5", "[2001:db8::1]:443")) == "2001:db8::1"
    assert client_address(request("10.0.0.5", "2001:db8::2")) == "2001:db8::2"


def test_a_client_that_is_not_a_trusted_proxy_cannot_choose_its_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request("203.0.113.7", "10.0.0.9, 198.51.100.1")) == "203.0.113.7"


def test_ipv6_and_an_ipv4_client_on_an_ipv6_socket(settings):
    settings.TRUSTED_PROXIES = ["::1", "fd00::/8"]
    assert client_address(request("::ffff:203.0.113.7")) == "203.0.113.7"
    assert client_address(request("fd00::2", "2001:db8::5")) == "2001:db8::5"
    assert client_address(request("::1", "203.0.113.7")) == "203.0.113.7"


def test_a_wrong_trusted_proxy_setting_is_refused(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "nginx"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        client_address(request("10.0.0.5", "203.0.113.7"))


@pytest.mark.django_db
def test_the_sign_in_audit_records_the_client_behind_the_proxy_not_a_spoofed_one(world, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    behind = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    behind.post("/login/", {"username": "member@example.nhs.uk", "password": PASSWORD})
    assert AuditEvent.objects.get(action="auth.login").payload["ip"] == "203.0.113.7"
    settings.TRUSTED_PROXIES = []
    direct = Client(REMOTE_ADDR="198.51.100.2", HTTP_X_FORWARDED_FOR="203.0.113.99")
    direct.post("/login/", {"username": "member@example.nhs.uk", "password": "wrong"})
    assert AuditEvent.objects.get(action="auth.login_failed").payload["ip"] == "198.51.100.2"


@pytest.mark.django_db
def test_password_resets_are_limited_per_client_address_however_the_header_is_spoofed(
    world, settings
):
    """Behind the trusted proxy two people have their own limits; a client that writes
    X-Forwarded-For itself still counts against its own address."""
    from django.core.cache import cache

    cache.clear()
    settings.PASSWORD_RESETS_PER_ADDRESS = 2
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    emails = ["member@example.nhs.uk", "approver@example.nhs.uk", "viewer@example.nhs.uk"]
    for n, email in enumerate(emails):
        spoofed = Client(REMOTE_ADDR="198.51.100.2", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert spoofed.post("/password/reset/", {"email": email}).status_code == 302
    assert len(mail.outbox) == 2  # the third from that address: the same page, nothing sent
    for n, email in enumerate(emails[:2]):
        proxied = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=f"6.6.6.6, 203.0.113.{n}")
        proxied.post("/password/reset/", {"email": email})
    assert len(mail.outbox) == 4  # two people behind the proxy: each within their own limit
    cache.clear()
