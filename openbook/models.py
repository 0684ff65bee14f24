"""The tamper-evident audit trail.

Events are append-only: a database trigger (migration 0002) rejects UPDATE, DELETE and
TRUNCATE, and each event's hash covers the previous event's hash in its chain, so a row edited
behind the application's back is found by `openbook audit verify`. There is one chain per
system and one for the platform.
"""

from django.conf import settings
from django.db import models

PLATFORM_CHAIN = "platform"


def system_chain(system_id: int) -> str:
    return f"system:{system_id}"


def organisation_chain(organisation_id: int) -> str:
    """An organisation's private chain: events carrying draft figures, which its partners
    (who read the system's chain) must not see."""
    return f"organisation:{organisation_id}"


class AuditEvent(models.Model):
    """One audited action, linked by hash to the event before it in the same chain."""

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Who acted, as shown at the time (survives renames and is part of the hash).
    actor_label = models.CharField(max_length=254, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey(
        "accounts.System", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    payload = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="auditevent_chain_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["system", "occurred_at"]),
            models.Index(fields=["action"]),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


class AuditHead(models.Model):
    """How far each chain has been written: its last event's sequence number and hash.

    A database trigger moves it forward on every insert into the trail, in the inserting
    transaction, and refuses to move it back or delete it (migration 0003). So deleting the
    newest events leaves the head pointing past the chain's end, and verification says so.
    (A superuser can still rewind it along with the events: what anchors a chain against
    that is the signed checkpoints partners keep, see openbook/checkpoints.py.)"""

    chain = models.CharField(max_length=40, primary_key=True)
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.chain} head at #{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement of a chain's head at a moment, issued each day and kept here for
    people to download. What anchors the chain is the copy a partner keeps: rows here can be
    deleted by whoever can delete events, a partner's file cannot."""

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    issued_at = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["chain", "-seq"]
        indexes = [models.Index(fields=["chain", "-issued_at"])]

    def __str__(self) -> str:
        return f"{self.chain} checkpoint at #{self.seq}"
