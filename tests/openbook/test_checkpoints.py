"""The end of an audit chain anchored: its head kept where deleting events cannot rewind it,
and signed checkpoints partners keep, against which a truncated, rewritten or restored chain
is told from an intact one (issue 14, item 2). Tampering is done as the issue's probe did it:
as the superuser, with the triggers disabled."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from openbook import checkpoints
from openbook.audit import audit_record, audit_verify_chain, compute_hash
from openbook.models import AuditCheckpoint, AuditEvent, AuditHead, system_chain

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/systems/s1/audit/verify/"


def _superuser(*statements: tuple[str, list]) -> None:
    """What someone with the database's superuser role does behind the application's back."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE openbook_auditevent DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE openbook_audithead DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ALTER TABLE openbook_audithead ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE openbook_auditevent ENABLE TRIGGER USER")


def _delete_newest(chain: str, n: int, *, rewind_head: bool) -> int:
    """Delete the chain's last n events; with rewind_head, also set its head back to the
    event left last (as restoring an older backup of the whole database would)."""
    end = AuditEvent.objects.filter(chain=chain).order_by("-seq").values_list("seq", flat=True)[0]
    keep = end - n
    statements = [("DELETE FROM openbook_auditevent WHERE chain = %s AND seq > %s", [chain, keep])]
    if rewind_head:
        statements.append(("UPDATE openbook_audithead h SET seq = e.seq, hash = e.hash "
                           "FROM openbook_auditevent e WHERE h.chain = %s AND e.chain = h.chain "
                           "AND e.seq = %s", [chain, keep]))  # fmt: skip
    _superuser(*statements)
    return keep


def _rewrite_from(chain: str, seq: int) -> None:
    """Change event seq and hash it and every later event again, head included: a chain
    that checks out on its own, link by link and against its head."""
    events = list(AuditEvent.objects.filter(chain=chain, seq__gte=seq).order_by("seq"))
    prev = AuditEvent.objects.get(chain=chain, seq=seq - 1).hash
    statements = []
    for event in events:
        if event.seq == seq:
            event.reason = "the figures were always 0"
        event.prev_hash = prev
        event.hash = prev = compute_hash(prev, event)
        statements.append(("UPDATE openbook_auditevent SET reason = %s, prev_hash = %s, "
                           "hash = %s WHERE id = %s",
                           [event.reason, event.prev_hash, event.hash, event.pk]))  # fmt: skip
    statements.append(("UPDATE openbook_audithead SET hash = %s WHERE chain = %s", [prev, chain]))
    _superuser(*statements)


def _events(world, n: int) -> str:
    for i in range(n):
        audit_record(action="transfer.agreed", system=world.s1, payload={"n": i})
    return system_chain(world.s1.pk)


def _against(tmp_path, data) -> str:
    """`openbook audit verify --against FILE`: its output, or CommandError."""
    from io import StringIO

    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(data))
    out = StringIO()
    call_command("audit", "verify", "--against", str(path), stdout=out)
    return out.getvalue()


def _post(client, data) -> dict:
    response = client.post(VERIFY, json.dumps(data), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("n", [1, 10])
def test_deleting_the_newest_events_is_found_without_a_checkpoint(world, client_for, n):
    """The issue's probe: before the head, both verifications said intact."""
    chain = _events(world, 12)
    end = AuditEvent.objects.filter(chain=chain).count()
    _delete_newest(chain, n, rewind_head=False)

    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify", "--system", "s1")
    assert excinfo.value.returncode == 1
    assert f"ends at event {end - n}" in str(excinfo.value) and "deleted" in str(excinfo.value)
    report = client_for(world.people["partner"]).get(VERIFY).json()
    assert report["ok"] is False and report["broken_seq"] == end - n + 1
    assert "deleted" in report["problem"]


def test_after_the_newest_events_are_deleted_the_chain_takes_no_more(world):
    """Before, the next ordinary write took the deleted event's number, the head moved on,
    and after two writes the chain verified and was signed again."""
    chain = _events(world, 6)
    kept = _delete_newest(chain, 1, rewind_head=False)
    for _ in range(2):
        with pytest.raises(DatabaseError, match="does not follow its head"), transaction.atomic():
            audit_record(action="transfer.agreed", system=world.s1, payload={"n": "after"})
    assert AuditEvent.objects.filter(chain=chain).count() == kept
    assert not audit_verify_chain(chain).ok
    assert checkpoints.checkpoint_current(chain) is None


def test_a_chain_rolled_back_behind_its_checkpoint_is_not_signed_again(world):
    """A restored backup (events and head rewound together) verifies on its own; the
    platform will not vouch for it, by the nightly checkpoint or on demand."""
    chain = _events(world, 6)
    (kept,) = [cp for cp in checkpoints.checkpoints_issue() if cp.chain == chain]
    assert kept.seq == AuditEvent.objects.filter(chain=chain).count()
    _delete_newest(chain, 2, rewind_head=True)
    assert audit_verify_chain(chain).ok  # on its own, it checks out
    assert checkpoints.checkpoint_issue(chain) is None
    assert checkpoints.checkpoint_current(chain) is None
    assert AuditCheckpoint.objects.filter(chain=chain).count() == 1


def test_the_head_only_moves_forward(world):
    chain = _events(world, 3)
    for sql in ("UPDATE openbook_audithead SET seq = seq - 1 WHERE chain = %s",
                "UPDATE openbook_audithead SET hash = md5(hash) || md5(hash) WHERE chain = %s",
                "DELETE FROM openbook_audithead WHERE chain = %s"):  # fmt: skip
        with (
            pytest.raises(DatabaseError, match="only moves forward"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [chain])
    head = AuditHead.objects.get(chain=chain)
    last = AuditEvent.objects.filter(chain=chain).order_by("-seq").first()
    assert (head.seq, head.hash) == (last.seq, last.hash)


def test_an_intact_chain_passes_against_its_checkpoint(world, client_for, tmp_path):
    chain = _events(world, 5)
    signed = checkpoints.checkpoint_current(chain)
    assert signed["seq"] == AuditEvent.objects.filter(chain=chain).count()
    assert "Intact" in _against(tmp_path, signed) and "0 event(s) later" in _against(
        tmp_path, signed)  # fmt: skip
    audit_record(action="transfer.agreed", system=world.s1)
    assert "1 event(s) later" in _against(tmp_path, signed)
    answer = _post(client_for(world.people["viewer"]), signed)
    assert answer["status"] == "intact" and answer["ok"] is True and answer["since"] == 1


@pytest.mark.parametrize("n", [1, 10])
def test_a_truncated_chain_is_found_against_a_checkpoint(world, client_for, tmp_path, n):
    """Even with the head rewound too (a restored backup), the kept checkpoint remembers."""
    chain = _events(world, 15)
    signed = checkpoints.checkpoint_current(chain)
    keep = _delete_newest(chain, n, rewind_head=True)
    assert audit_verify_chain(chain).ok  # consistent on its own: only a checkpoint tells

    with pytest.raises(CommandError) as excinfo:
        _against(tmp_path, signed)
    assert excinfo.value.returncode == 1
    assert f"Truncated: the chain ends at event {keep}, before event {signed['seq']}" in str(
        excinfo.value)  # fmt: skip
    answer = _post(client_for(world.people["partner"]), signed)
    assert answer["status"] == "truncated" and answer["ok"] is False
    assert answer["events"] == keep and answer["checkpoint_seq"] == signed["seq"]


def test_a_rewritten_and_rehashed_chain_is_found_and_cannot_be_signed_for(
    world, client_for, tmp_path
):
    chain = _events(world, 8)
    signed = checkpoints.checkpoint_current(chain)
    _rewrite_from(chain, signed["seq"] - 4)
    assert audit_verify_chain(chain).ok  # links and head all agree: rewritten consistently

    with pytest.raises(CommandError, match="Rewritten: event"):
        _against(tmp_path, signed)
    client = client_for(world.people["lead"])
    assert _post(client, signed)["status"] == "rewritten"

    # Without the key, the checkpoint cannot be made to fit the rewritten chain.
    forged = {**signed, "hash": AuditEvent.objects.get(chain=chain, seq=signed["seq"]).hash}
    answer = _post(client, forged)
    assert answer["status"] == "bad_signature" and "signature does not match" in answer["message"]
    with pytest.raises(CommandError, match="does not check"):
        _against(tmp_path, forged)


def test_an_old_export_is_a_prefix_and_a_restored_old_state_is_found(world, client_for, tmp_path):
    """Replaying an old export: the chain has grown since, and it is still intact against
    the export's head; restored to that old state, the chain is caught by a later checkpoint."""
    chain = _events(world, 4)
    client = client_for(world.people["partner"])
    export = client.get("/systems/s1/audit.json").json()
    old = export["checkpoint"]
    assert old["seq"] == export["events"][-1]["seq"]
    _events(world, 5)
    assert "5 event(s) later" in _against(tmp_path, export)  # the export file as it is
    assert _post(client, export)["since"] == 5

    (later,) = [cp for cp in checkpoints.checkpoints_issue() if cp.chain == chain]
    kept = client.get(f"/systems/s1/audit/checkpoints/{later.pk}.json").json()
    _delete_newest(chain, 5, rewind_head=True)  # the backup taken at the export, restored
    assert audit_verify_chain(chain).ok
    assert "0 event(s) later" in _against(tmp_path, export)  # the old head: still a prefix
    with pytest.raises(CommandError, match="Truncated"):
        _against(tmp_path, kept)
    assert _post(client, kept)["status"] == "truncated"


def test_a_partner_checks_a_checkpoint_offline_with_the_published_key(world, client):
    """With nothing but the PEM from the public page and the documented algorithm."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    chain = _events(world, 2)
    signed = checkpoints.checkpoint_current(chain)
    key = load_pem_public_key(client.get("/audit/signing-key.pem").content)
    fields = {k: signed[k] for k in ("type", "chain", "seq", "hash", "issued_at", "key_id")}
    message = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    key.verify(base64.b64decode(signed["signature"]), message)  # raises if it does not check
    api = client.get("/api/v1/audit/signing-key/").json()
    assert api["key_id"] == signed["key_id"] and api["pem"] == key.public_bytes(
        *_pem_spki()).decode()  # fmt: skip


def _pem_spki():
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


def test_a_checkpoint_for_another_chain_or_not_a_checkpoint_is_refused(world, client_for):
    _events(world, 1)
    audit_record(action="transfer.agreed", system=world.s2)
    other = checkpoints.checkpoint_current(system_chain(world.s2.pk))
    client = client_for(world.people["partner"])
    assert _post(client, other)["status"] == "other_chain"
    bad = client.post(VERIFY, json.dumps({"seq": 1}), content_type="application/json")
    assert bad.status_code == 400 and "no type" in bad.content.decode()


def test_a_configured_key_signs_and_a_replaced_one_still_checks(world, settings):
    chain = _events(world, 2)
    derived = checkpoints.checkpoint_current(chain)
    old_public = checkpoints.public_key_b64()
    settings.AUDIT_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()
    assert checkpoints.checkpoint_current(chain)["key_id"] != derived["key_id"]
    assert checkpoints.audit_verify_against(derived).status == "bad_signature"  # unknown key
    settings.AUDIT_PREVIOUS_PUBLIC_KEYS = [old_public]
    assert checkpoints.audit_verify_against(derived).status == "intact"


def test_the_nightly_checkpoints_are_issued_once_kept_and_recorded(world, client_for):
    from openbook.tasks import issue_checkpoints

    chain = _events(world, 3)
    assert issue_checkpoints() >= 2  # S1's chain and the platform's
    assert issue_checkpoints() == 0  # nothing moved: nothing new
    kept = AuditCheckpoint.objects.get(chain=chain)
    recorded = AuditEvent.objects.filter(action="audit.checkpoints_issued").get()
    assert {"chain": chain, "seq": kept.seq, "hash": kept.hash} in recorded.payload["checkpoints"]
    platform = AuditCheckpoint.objects.get(chain="platform")
    assert (platform.seq, platform.hash) == (recorded.seq, recorded.hash)  # it covers the record
    page = client_for(world.people["viewer"]).get("/systems/s1/audit/").content.decode()
    assert f"Checkpoint at event {kept.seq}" in page and "checkpoint.json" in page
    listed = client_for(world.people["viewer"]).get("/api/v1/systems/s1/audit/checkpoints/")
    assert listed.json()["results"][0]["signature"] == kept.signature


def test_a_damaged_chain_gets_no_signature(world, client_for):
    chain = _events(world, 3)
    _delete_newest(chain, 1, rewind_head=False)
    client = client_for(world.people["lead"])
    assert client.get("/systems/s1/audit/checkpoint.json").status_code == 409
    assert client.get("/api/v1/systems/s1/audit/checkpoint/").status_code == 409
    assert client.get("/systems/s1/audit.json").json()["checkpoint"] is None
    assert chain not in [cp.chain for cp in checkpoints.checkpoints_issue()]


@pytest.mark.parametrize("key", ["-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
                                 "bm90IDMyIGJ5dGVz"])  # fmt: skip
def test_a_signing_key_that_cannot_be_read_stops_the_start(settings, key):
    """Before, a bad PEM raised ValueError on every trail page (a 500), not at start."""
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    settings.AUDIT_SIGNING_KEY = key
    with pytest.raises(ImproperlyConfigured, match="audit"):
        apps.get_app_config("openbook").ready()
