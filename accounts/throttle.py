"""Slowing down password guessing on an account without letting a stranger lock its owner out.

No hard lock: after SIGNIN_FREE_ATTEMPTS wrong passwords in a row on an account, its next
attempt is accepted only after a wait that doubles with each further wrong one (1 s, 2 s,
4 s … up to SIGNIN_MAX_DELAY_SECONDS). An attempt that comes sooner is refused before the
password is looked at, with the seconds left; the right password once the wait is over
always signs in and starts the count again. Counted by the address typed, so an address with
no account behaves exactly like one with an account.

A browser the person has signed in from before carries a device cookie (OWASP's "device
cookies"): signed, naming the account and a random id. Attempts that carry a valid one have
their own count, so a stranger's wrong guesses from elsewhere do not slow the owner's own
browser. A password reset clears every count of the account.

One Redis hash per account holds every count; each claim is one Lua script, so several
gunicorn workers answering at once can never let more attempts through than the rules allow.
The time is Redis's own, the same for every web server.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

DEVICE_COOKIE = "openbook_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
DEVICE_COOKIE_ACCOUNTS = 8  # accounts one browser is known for (a shared computer)
_DEVICE_SALT = "accounts.throttle.device"
FIRST_DELAY_MS = 1000
FORGET_AFTER_SECONDS = 24 * 3600  # a day with no wrong password and the counts start again

# KEYS[1]: the account's hash. ARGV: field prefix ("a:" the account, "d:<id>:" a device),
# attempts free of any wait, the first wait and the longest (ms), the hash's lifetime (s).
# The attempt is counted as wrong before the password is checked, so two at once cannot both
# slip in; the right password then clears the count (clear()).
# Returns {1, failures} if the attempt may go ahead, {0, ms to wait, first refusal of this
# wait (1/0)} if not.
_CLAIM = """
local key, p = KEYS[1], ARGV[1]
local free, first, longest, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
    tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local failures = tonumber(redis.call('HGET', key, p .. 'f') or '0')
local not_before = tonumber(redis.call('HGET', key, p .. 't') or '0')
if now < not_before then
    local told = 0
    if redis.call('HGET', key, p .. 'n') ~= tostring(not_before) then
        redis.call('HSET', key, p .. 'n', tostring(not_before))
        told = 1
    end
    return {0, not_before - now, told}
end
failures = failures + 1
local wait = 0
if failures >= free then
    wait = math.min(longest, first * 2 ^ math.min(failures - free, 40))
end
redis.call('HSET', key, p .. 'f', failures, p .. 't', tostring(now + wait))
redis.call('EXPIRE', key, math.max(ttl, math.ceil(wait / 1000) + 60))
return {1, failures}
"""


@dataclass(frozen=True)
class Claim:
    """The outcome of asking to try a password: go ahead, or wait `wait_seconds`."""

    allowed: bool
    wait_seconds: int = 0
    first_refusal: bool = False  # the first refusal of this wait (audited once, not each time)


def _normal(username: str) -> str:
    # Upper then lower: the account is found by PostgreSQL's UPPER() (email__iexact), which
    # takes "ı" for "i" and "ſ" for "s"; lower() alone would give each such spelling a count of
    # its own. Python's full case mapping merges at least what UPPER() does.
    return username.strip().upper().lower()


def _account(username: str) -> str:
    # Hashed: no e-mail addresses in Redis or in a shared computer's cookies, and a key of
    # fixed length whatever was typed.
    return hashlib.sha256(_normal(username).encode()).hexdigest()


def _key(username: str) -> str:
    return cache.make_key(f"signin:{_account(username)}")


def _client(key: str):
    return cache._cache.get_client(key, write=True)  # type: ignore[attr-defined]


def _devices(request) -> list[list[str]]:
    """The [account, device id] pairs in the request's device cookie (none if not valid)."""
    try:
        value = signing.loads(
            request.COOKIES.get(DEVICE_COOKIE, ""), salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_MAX_AGE
        )
    except signing.BadSignature:
        return []
    if not isinstance(value, list):
        return []
    return [p for p in value if isinstance(p, list) and len(p) == 2 and all(
        isinstance(x, str) and x.isalnum() for x in p)]  # fmt: skip


def device_id(request, username: str) -> str | None:
    """The id this browser's device cookie holds for the account, if it holds a valid one."""
    if request is None:
        return None
    account = _account(username)
    return next((device for who, device in _devices(request) if who == account), None)


def device_cookie_value(request, username: str) -> str:
    """The device cookie after a successful sign-in: the account added, with a new id, to
    those the browser already holds (people share computers), the most recent few kept."""
    pairs = [p for p in _devices(request) if p[0] != _account(username)]
    pairs.insert(0, [_account(username), secrets.token_hex(16)])
    return signing.dumps(pairs[:DEVICE_COOKIE_ACCOUNTS], salt=_DEVICE_SALT)


def _prefix(device: str | None) -> str:
    return f"d:{device}:" if device else "a:"


def claim(username: str, device: str | None) -> Claim:
    """Ask to try a password for the account now (counted as a wrong attempt until clear()).
    With Redis away, sign-in goes on unthrottled and says so in the log: people keep signing
    in, and the passwords are still PBKDF2-checked one at a time."""
    key = _key(username)
    try:
        script = _client(key).register_script(_CLAIM)
        result = script(
            keys=[key],
            args=[
                _prefix(device),
                settings.SIGNIN_FREE_ATTEMPTS,
                FIRST_DELAY_MS,
                settings.SIGNIN_MAX_DELAY_SECONDS * 1000,
                FORGET_AFTER_SECONDS,
            ],
        )
    except RedisError:
        log.exception("the sign-in throttle cannot reach Redis; signing in without it")
        return Claim(allowed=True)
    if int(result[0]):
        return Claim(allowed=True)
    wait_ms = int(result[1])
    return Claim(allowed=False, wait_seconds=-(-wait_ms // 1000), first_refusal=bool(result[2]))


def clear(username: str, device: str | None) -> None:
    """The right password: the count it was made under starts again."""
    key = _key(username)
    p = _prefix(device)
    try:
        _client(key).hdel(key, f"{p}f", f"{p}t", f"{p}n")
    except RedisError:
        log.exception("a sign-in count could not be cleared")


def forget(username: str) -> None:
    """Every count of the account ends (a password reset proves the person has the mailbox).
    With Redis away the password change still stands (it is in the database); only the wait
    is left to run out."""
    key = _key(username)
    try:
        _client(key).delete(key)
    except RedisError:
        log.exception("sign-in waits of an account could not be cleared")


def failures(username: str, device: str | None = None) -> int:
    """How many attempts count as wrong so far (for tests and the operators' questions)."""
    key = _key(username)
    return int(_client(key).hget(key, f"{_prefix(device)}f") or 0)
