"""Writes to a person's second factor: an authenticator app (django-otp's TOTP device) and
ten recovery codes (its static device), checked, replaced, removed, reset; and the platform's
choice of who must use them. Each is audited.

Wrong codes slow the device down (django-otp's throttle: 1 s, 2 s, 4 s … after each one in a
row). A code is checked with the device row locked and in a transaction of its own that
commits whatever the answer: a wrong code's count and its audit event stay, two requests
cannot both use one code, and parallel guesses cannot share a wait.
"""

from __future__ import annotations

import math
import secrets
from base64 import b32encode
from binascii import unhexlify
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import policy, second_factor, sessions
from accounts.models import PersonalToken, SecuritySetting
from openbook.audit import audit_record

if TYPE_CHECKING:
    from accounts.models import User

RECOVERY_CODES = 10
KEY_BYTES = 20  # 160 bits, as RFC 4226 recommends and authenticator apps expect


@dataclass(frozen=True)
class Outcome:
    """The answer to a code: the method it confirmed, or why not."""

    method: str | None = None
    wait_seconds: int = 0  # refused unread: too many wrong codes in a row
    codes_left: int | None = None  # after a recovery code

    @property
    def ok(self) -> bool:
        return self.method is not None


def new_key() -> str:
    """A new authenticator secret, hex as django-otp keeps it."""
    return secrets.token_hex(KEY_BYTES)


def key_for_people(key: str) -> str:
    """The secret as an authenticator app takes it typed in: base32, in groups of four."""
    text = b32encode(unhexlify(key)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _code(text: str) -> str:
    """As typed, without spaces or dashes, any case."""
    return "".join(text.split()).replace("-", "").lower()


def totp_device_of(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _new_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.token_set.all().delete()
    device.throttle_reset(commit=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def set_up(*, actor: User, key: str, code: str) -> tuple[Outcome, list[str]]:
    """Confirm a new authenticator with a code it shows: from then on it is the person's
    second factor, and they get ten new recovery codes (returned once; the page shows them
    once). A wrong code stores nothing (the secret is on the person's own screen: guessing
    its codes gains no one anything)."""
    code = _code(code)
    totp = TOTP(unhexlify(key))
    totp.time = timezone.now().timestamp()
    if not (code.isdigit() and totp.verify(int(code), tolerance=1)):
        return Outcome(), []
    with transaction.atomic():
        if TOTPDevice.objects.select_for_update().filter(user=actor, confirmed=True).exists():
            raise ValidationError("Two-step verification is already set up for your account.")
        TOTPDevice.objects.filter(user=actor).delete()
        # The code just used cannot be used again (last_t).
        TOTPDevice.objects.create(user=actor, name="Authenticator app", key=key, confirmed=True,
                                  last_t=totp.t(), drift=totp.drift)  # fmt: skip
        codes = _new_codes(actor)
        audit_record(action="second_factor.set_up", actor=actor, obj=actor,
                     payload={"recovery_codes": len(codes)})  # fmt: skip
    return Outcome(method="totp"), codes


def _wait(device: TOTPDevice | StaticDevice) -> int:
    allowed, info = device.verify_is_allowed()
    if allowed or not info or "locked_until" not in info:
        return 0
    return max(1, math.ceil((info["locked_until"] - timezone.now()).total_seconds()))


def code_check(*, actor: User, code: str) -> Outcome:
    """Check a code the person typed: six digits from their authenticator, or one of their
    recovery codes (used up by using it). Audited whether right or wrong; a code tried while
    the device is waiting out wrong ones is refused unread."""
    code = _code(code)
    is_totp = code.isdigit() and len(code) == 6  # recovery codes have 8 characters
    model: type[TOTPDevice] | type[StaticDevice] = TOTPDevice if is_totp else StaticDevice
    method = "totp" if is_totp else "recovery"
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=actor, confirmed=True).first()
        if device is None:
            audit_record(action="second_factor.failed", actor=actor, obj=actor,
                         payload={"method": method, "why": "no such device"})  # fmt: skip
            return Outcome()
        wait = _wait(device)
        if wait:
            return Outcome(wait_seconds=wait)
        if not device.verify_token(code):
            failures = device.throttling_failure_count
            audit_record(action="second_factor.failed", actor=actor, obj=actor,
                         payload={"method": method, "failures": failures})  # fmt: skip
            return Outcome()
        if is_totp:
            audit_record(action="second_factor.verified", actor=actor, obj=actor)
            return Outcome(method="totp")
        left = device.token_set.count()
        audit_record(action="second_factor.recovery_used", actor=actor, obj=actor,
                     payload={"codes_left": left})  # fmt: skip
        return Outcome(method="recovery", codes_left=left)


@transaction.atomic
def recovery_codes_replace(*, actor: User) -> list[str]:
    """Ten new recovery codes; the old ones stop working. Only in a session that has
    confirmed the person's second factor."""
    if totp_device_of(actor) is None:
        raise ValidationError("Set up two-step verification first: the codes come with it.")
    if not policy.has_second_factor(actor):
        raise policy.SecondFactorRequired("make new recovery codes")
    codes = _new_codes(actor)
    audit_record(action="second_factor.codes_replaced", actor=actor, obj=actor,
                 payload={"recovery_codes": len(codes)})  # fmt: skip
    return codes


def _tokens_lose_second_factor(user: User) -> int:
    """API tokens made in a session that had the factor no longer carry it: a token taken
    with a stolen session must not go on signing once the person has reset their phone. They
    still read; to act, the person makes a new one after their code."""
    return (
        PersonalToken.objects.filter(user=user).exclude(second_factor="").update(second_factor="")
    )


@transaction.atomic
def remove(*, actor: User, password: str, keep_session_key: str | None) -> int:
    """The person removes their second factor (a new phone, say): it takes their password and
    a session that confirmed the factor. Their other sessions end, in case one is a
    stranger's. Returns how many ended."""
    if totp_device_of(actor) is None:
        raise ValidationError("Two-step verification is not set up for your account.")
    if not policy.has_second_factor(actor):
        raise policy.SecondFactorRequired("remove two-step verification")
    if not actor.check_password(password):
        raise ValidationError({"password": "That is not your password."})
    TOTPDevice.objects.filter(user=actor).delete()
    StaticDevice.objects.filter(user=actor).delete()
    tokens = _tokens_lose_second_factor(actor)
    audit_record(action="second_factor.removed", actor=actor, obj=actor,
                 payload={"tokens_without_second_factor": tokens})  # fmt: skip
    return sessions.sessions_end_others(actor=actor, keep_session_key=keep_session_key)


@transaction.atomic
def reset(*, actor: User, user: User) -> None:
    """An administrator removes a person's second factor (lost phone and codes): every
    session of theirs ends, and they set up a new one at their next act or sign-in."""
    if not policy.can_reset_second_factor(actor):
        raise PermissionDenied("Only a platform administrator can reset two-step verification.")
    policy.require_second_factor(actor, "reset someone's two-step verification")
    had = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    ended = sessions.sessions_end_all(user)
    tokens = _tokens_lose_second_factor(user)
    audit_record(action="second_factor.reset", actor=actor, obj=user,
                 payload={"had_authenticator": had, "sessions_ended": ended,
                          "tokens_without_second_factor": tokens})  # fmt: skip


@transaction.atomic
def everyone_set(*, actor: User, required: bool) -> SecuritySetting:
    """An administrator requires two-step verification of everyone at sign-in, or no longer."""
    if not policy.can_require_second_factor_of_everyone(actor):
        raise PermissionDenied("Only a platform administrator can change who must use it.")
    policy.require_second_factor(actor, "change who must use two-step verification")
    before = second_factor.required_of_everyone()
    setting, _ = SecuritySetting.objects.select_for_update().get_or_create(pk=1)
    setting.second_factor_for_everyone = required
    setting.changed_at, setting.changed_by = timezone.now(), actor
    setting.save()
    audit_record(action="settings.second_factor_for_everyone", actor=actor, obj=setting,
                 before={"everyone": before}, after={"everyone": required})  # fmt: skip
    second_factor.forget_everyone_setting()
    transaction.on_commit(second_factor.forget_everyone_setting)
    return setting
