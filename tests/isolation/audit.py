"""The audit trail's checkpoints in the isolation matrix: a system's signed head and its
nightly checkpoints are its partners' (outsiders get 404), checking a checkpoint changes
nothing (everyone who sees the system may), and the public key is public."""

from __future__ import annotations

from tests.isolation.common import API_ANONYMOUS, OUTSIDERS, SIGNED_IN, Route, each
from tests.isolation.common import _s1_object_api as _s1_api
from tests.isolation.common import _s1_object_page as _s1_page


def _with_events(world) -> None:
    from openbook.audit import audit_record

    audit_record(action="transfer.agreed", system=world.s1, payload={"n": 1})


def _with_checkpoints(world) -> None:
    from openbook.checkpoints import checkpoints_issue

    _with_events(world)
    checkpoints_issue()


def _kept(world) -> str:
    from openbook.models import AuditCheckpoint, system_chain

    pk = AuditCheckpoint.objects.filter(chain=system_chain(world.s1.pk)).values("pk")[0]["pk"]
    return f"/systems/s1/audit/checkpoints/{pk}.json"


def _signed_head(world) -> dict:
    from openbook.checkpoints import checkpoint_current
    from openbook.models import system_chain

    return checkpoint_current(system_chain(world.s1.pk))


_everyone = {"anonymous": 200, **each(SIGNED_IN, 200)}

ROUTES = [
    Route("audit_checkpoint", "GET", lambda w: "/systems/s1/audit/checkpoint.json", _s1_page,
          200, setup=_with_events),
    Route("audit_checkpoint_kept", "GET", _kept, _s1_page, 200, setup=_with_checkpoints),
    Route("audit_signing_key", "GET", lambda w: "/audit/signing-key.pem", _everyone, 200,
          notes="public: anyone holding a checkpoint may check it"),
    Route("api_audit_checkpoint", "GET", lambda w: "/api/v1/systems/s1/audit/checkpoint/",
          _s1_api, 200, api=True, setup=_with_events),
    Route("api_audit_checkpoints", "GET", lambda w: "/api/v1/systems/s1/audit/checkpoints/",
          _s1_api, 200, api=True, setup=_with_checkpoints),
    Route("api_audit_verify", "POST", lambda w: "/api/v1/systems/s1/audit/verify/",
          {"anonymous": API_ANONYMOUS, **each(OUTSIDERS, 404)}, 200, data=_signed_head,
          api=True, setup=_with_events,
          notes="checking a checkpoint writes nothing: the system's viewers may too"),
    Route("api_audit_signing_key", "GET", lambda w: "/api/v1/audit/signing-key/", _everyone,
          200, api=True, notes="public, as the page"),
]  # fmt: skip
