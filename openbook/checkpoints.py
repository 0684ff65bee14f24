"""Signed checkpoints of the audit chains: what anchors a chain's end outside the database.

A checkpoint states "chain C had event N with hash H at time T", signed with Ed25519. The
signing key never lives in the database (see _private_key), so someone who can rewrite the
database (delete the newest events, rewrite the chain from some event and hash it again,
restore an old backup) cannot make a checkpoint for the state they leave behind, and a
checkpoint a partner kept from before tells the truncated or rewritten chain from the real
one. The idea is Certificate Transparency's signed tree head.

Checkpoints are issued each day (openbook.issue_checkpoints), put in every export of a
system's trail, and can be downloaded at any time; partners check them offline with the
published public key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from openbook.audit import (
    audit_chains,
    audit_record,
    audit_verify_chain,
    audit_verify_chain_cached,
    canonical_json,
)
from openbook.models import PLATFORM_CHAIN, AuditCheckpoint, AuditEvent, AuditHead

log = logging.getLogger(__name__)

TYPE = "openbook-audit-checkpoint/1"
ALGORITHM = "Ed25519"
# What the signature covers, as canonical JSON (keys sorted, ',' and ':', UTF-8). "type"
# keeps a signature made for one kind of statement from being read as another.
SIGNED_FIELDS = ("type", "chain", "seq", "hash", "issued_at", "key_id")
HOW_TO_CHECK = (
    "The signature is Ed25519 over the canonical JSON of the fields type, chain, seq, hash, "
    "issued_at and key_id (keys sorted, separators ',' and ':', UTF-8), in base64. Check it "
    "with the public key you obtained from the platform and kept, not the copy in this file; "
    "then the chain must hold event seq with exactly this hash, and verify to its end."
)


# --- keys --------------------------------------------------------------------------------------


def _decode_key(text: str, *, private: bool) -> Any:
    """An Ed25519 key written as PEM, or as its 32 raw bytes in base64."""
    text = text.strip()
    key: Any
    if text.startswith("-----BEGIN"):
        data = text.encode()
        try:
            key = (serialization.load_pem_private_key(data, password=None) if private
                   else serialization.load_pem_public_key(data))  # fmt: skip
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise ImproperlyConfigured(f"An audit key's PEM cannot be read: {error}") from None
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except binascii.Error as error:
            raise ImproperlyConfigured(f"An audit key is neither PEM nor base64: {error}") from None
        if len(raw) != 32:
            raise ImproperlyConfigured("A raw Ed25519 audit key is 32 bytes (in base64).")
        key = (Ed25519PrivateKey.from_private_bytes(raw) if private
               else Ed25519PublicKey.from_public_bytes(raw))  # fmt: skip
    if not isinstance(key, Ed25519PrivateKey if private else Ed25519PublicKey):
        raise ImproperlyConfigured("The audit signing key must be an Ed25519 key.")
    return key


@functools.lru_cache(maxsize=4)
def _key_from(configured: str, secret_key: str) -> Ed25519PrivateKey:
    if configured.strip():
        return _decode_key(configured, private=True)
    # No AUDIT_SIGNING_KEY: one derived from SECRET_KEY, which lives in the environment and
    # never in the database, so the database alone still cannot forge a checkpoint. Production
    # should set its own key: then rotating SECRET_KEY does not change the published key.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"openbook audit checkpoint signing key")  # fmt: skip
    seed = hkdf.derive(secret_key.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def _private_key() -> Ed25519PrivateKey:
    return _key_from(settings.AUDIT_SIGNING_KEY, settings.SECRET_KEY)


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def public_key() -> Ed25519PublicKey:
    return _private_key().public_key()


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_key_b64() -> str:
    return base64.b64encode(_raw(public_key())).decode()


def known_keys() -> dict[str, Ed25519PublicKey]:
    """The keys a checkpoint may be signed with: the current one and those it replaced
    (AUDIT_PREVIOUS_PUBLIC_KEYS), so checkpoints partners kept still check after a rotation."""
    keys = [public_key()] + [
        _decode_key(text, private=False) for text in settings.AUDIT_PREVIOUS_PUBLIC_KEYS if text
    ]
    return {key_id_of(key): key for key in keys}


# --- signing -----------------------------------------------------------------------------------


def _signing_input(fields: dict[str, Any]) -> bytes:
    return canonical_json({name: fields[name] for name in SIGNED_FIELDS}).encode()


def sign(chain: str, seq: int, hash: str, issued_at: datetime) -> dict[str, Any]:
    """A checkpoint document for (chain, seq, hash), signed now with the platform's key."""
    key = _private_key()
    fields = {"type": TYPE, "chain": chain, "seq": seq, "hash": hash,
              "issued_at": issued_at.astimezone(UTC).isoformat(timespec="seconds"),
              "key_id": key_id_of(key.public_key())}  # fmt: skip
    signature = base64.b64encode(key.sign(_signing_input(fields))).decode()
    return {**fields, "signature": signature, "algorithm": ALGORITHM,
            "public_key": public_key_b64(), "how_to_check": HOW_TO_CHECK}  # fmt: skip


def document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """A stored checkpoint as the document it was issued as."""
    fields = {"type": TYPE, "chain": checkpoint.chain, "seq": checkpoint.seq,
              "hash": checkpoint.hash,
              "issued_at": checkpoint.issued_at.astimezone(UTC).isoformat(timespec="seconds"),
              "key_id": checkpoint.key_id}  # fmt: skip
    key = known_keys().get(checkpoint.key_id)
    return {**fields, "signature": checkpoint.signature, "algorithm": ALGORITHM,
            "public_key": base64.b64encode(_raw(key)).decode() if key else "",
            "how_to_check": HOW_TO_CHECK}  # fmt: skip


def _holds_kept(chain: str) -> bool:
    """Whether the chain still holds the event of its latest kept checkpoint, with that hash.
    A chain rolled back behind it (newest events and head deleted or rewound together, as a
    restored backup is) verifies on its own; signing it would vouch for the rollback."""
    latest = AuditCheckpoint.objects.filter(chain=chain).order_by("-seq").first()
    if latest is None:
        return True
    if AuditEvent.objects.filter(chain=chain, seq=latest.seq, hash=latest.hash).exists():
        return True
    log.error("audit chain %s no longer holds event %s of its checkpoint issued %s: not signed",
              chain, latest.seq, latest.issued_at)  # fmt: skip
    return False


def checkpoint_current(chain: str) -> dict[str, Any] | None:
    """The chain's head now, signed; None when the chain does not verify (a signature on a
    damaged chain would vouch for the damage), has been rolled back behind its latest kept
    checkpoint, or has no events."""
    report = audit_verify_chain_cached(chain)
    if not report.ok or not report.events or not _holds_kept(chain):
        return None
    return sign(chain, report.events, report.last_hash, timezone.now())


def checkpoint_issue(chain: str) -> AuditCheckpoint | None:
    """Sign and keep the chain's head, unless it is already the latest checkpoint's, or the
    chain does not verify or has been rolled back behind it. Running it twice issues one."""
    latest = AuditCheckpoint.objects.filter(chain=chain).order_by("-seq").first()
    head = AuditHead.objects.filter(chain=chain).values("seq", "hash").first()
    if latest is not None and head == {"seq": latest.seq, "hash": latest.hash}:
        return None  # not moved since: nothing to re-hash tonight
    report = audit_verify_chain(chain)
    if not report.ok:
        log.error("audit chain %s does not verify (%s): not signed", chain, report.problem)
        return None
    if not report.events or not _holds_kept(chain):
        return None
    if latest is not None and latest.seq == report.events and latest.hash == report.last_hash:
        return None
    signed = sign(chain, report.events, report.last_hash, timezone.now())
    return AuditCheckpoint.objects.create(
        chain=chain, seq=signed["seq"], hash=signed["hash"],
        issued_at=datetime.fromisoformat(signed["issued_at"]), key_id=signed["key_id"],
        signature=signed["signature"],
    )  # fmt: skip


@transaction.atomic
def checkpoints_issue() -> list[AuditCheckpoint]:
    """Each night: a checkpoint for every chain that moved since its last one. That they were
    issued is recorded in the platform's chain, and the platform's checkpoint is issued after
    that event, so it covers it (and a night with nothing new records nothing). One run at a
    time, so two never issue the same checkpoint twice."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended('audit:checkpoints', 0))")
    issued = [cp for chain in audit_chains() if chain != PLATFORM_CHAIN
              if (cp := checkpoint_issue(chain)) is not None]  # fmt: skip
    if issued:
        audit_record(action="audit.checkpoints_issued", actor_label="the platform",
                     payload={"checkpoints": [{"chain": cp.chain, "seq": cp.seq,
                                               "hash": cp.hash} for cp in issued]})  # fmt: skip
    platform = checkpoint_issue(PLATFORM_CHAIN)
    return issued + ([platform] if platform is not None else [])


# --- checking a chain against a checkpoint -----------------------------------------------------


class _Malformed(Exception):
    pass


def _parse(data: Any) -> dict[str, Any]:
    """The checkpoint in a checkpoint file, or in an export of the trail (which carries one)."""
    if isinstance(data, dict) and isinstance(data.get("checkpoint"), dict):
        data = data["checkpoint"]
    if not isinstance(data, dict):
        raise _Malformed("a checkpoint is a JSON object")
    missing = [name for name in (*SIGNED_FIELDS, "signature") if name not in data]
    if missing:
        raise _Malformed(f"the checkpoint has no {', '.join(missing)}")
    seq = data["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise _Malformed("the checkpoint's seq is not a positive whole number")
    for name in ("type", "chain", "hash", "issued_at", "key_id", "signature"):
        if not isinstance(data[name], str) or len(data[name]) > 200:
            raise _Malformed(f"the checkpoint's {name} is not a short text")
    return data


@dataclass(frozen=True)
class CheckpointCheck:
    """A chain checked against a checkpoint. status: intact, truncated, rewritten, broken
    (the chain itself does not verify), bad_signature, other_chain or malformed."""

    status: str
    message: str
    chain: str = ""
    checkpoint_seq: int | None = None
    events: int = 0
    since: int = 0  # events written after the checkpoint (intact only)

    @property
    def ok(self) -> bool:
        return self.status == "intact"


def _signature_problem(data: dict[str, Any]) -> str:
    if data["type"] != TYPE:
        return f"it is not an audit checkpoint (type {data['type']!r})"
    key = known_keys().get(data["key_id"])
    if key is None:
        return f"it is signed with a key this platform does not know ({data['key_id']})"
    try:
        key.verify(base64.b64decode(data["signature"], validate=True), _signing_input(data))
    except (InvalidSignature, binascii.Error, ValueError):
        return "its signature does not match its contents (it was altered or forged)"
    return ""


def audit_verify_against(data: Any, *, chain: str | None = None) -> CheckpointCheck:
    """Check a chain against a signed checkpoint: the signature, then that the chain still
    holds the checkpoint's event with exactly its hash, then that the chain verifies to its
    end. A checkpoint older than the chain's end is a prefix of it: intact, N events later."""
    try:
        cp = _parse(data)
    except _Malformed as error:
        return CheckpointCheck("malformed", f"Not a checkpoint: {error}.")
    if problem := _signature_problem(cp):
        return CheckpointCheck("bad_signature", f"The checkpoint does not check: {problem}.",
                               cp["chain"], cp["seq"])  # fmt: skip
    if chain is not None and cp["chain"] != chain:
        return CheckpointCheck("other_chain", f"The checkpoint is for another chain "
                               f"({cp['chain']}), not {chain}.",
                               cp["chain"], cp["seq"])  # fmt: skip
    seq, issued = cp["seq"], cp["issued_at"]
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # the event, the end and the whole chain from one snapshot
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        events = AuditEvent.objects.filter(chain=cp["chain"])
        at = events.filter(seq=seq).values_list("hash", flat=True).first()
        end = events.aggregate(end=Max("seq"))["end"] or 0
        report = audit_verify_chain(cp["chain"]) if at == cp["hash"] else None
    args = (cp["chain"], seq, end)
    if at is None:
        return CheckpointCheck("truncated", f"Truncated: the chain ends at event {end}, before "
                               f"event {seq} of the checkpoint issued {issued}. Events were "
                               "deleted, or an older copy was restored.", *args)  # fmt: skip
    if report is None:
        return CheckpointCheck("rewritten", f"Rewritten: event {seq} does not have the hash "
                               f"the checkpoint issued {issued} signed. The chain was changed "
                               f"at or before event {seq} and hashed again.", *args)  # fmt: skip
    if not report.ok:
        return CheckpointCheck("broken", f"Event {seq} is as signed on {issued}, but the chain "
                               f"does not verify: event {report.broken_seq}: {report.problem}.",
                               *args)  # fmt: skip
    since = report.events - seq
    return CheckpointCheck("intact", f"Intact: event {seq} is as signed on {issued}, and the "
                           f"chain verifies to its end, {since} event(s) later.",
                           cp["chain"], seq, report.events, since)  # fmt: skip


def loads(text: str | bytes) -> Any:
    """A checkpoint file's JSON, or None when it is not JSON at all."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
