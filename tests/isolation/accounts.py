"""The matrix's rows for people, places, notifications and tokens (pages and API)."""

from __future__ import annotations

from tests.isolation.common import (
    API_ANONYMOUS,
    LOGIN_REDIRECT,
    Route,
    _every_choice,
    _lead_notification,
    _page_for_everyone,
    _s1_object_api,
    _s1_object_page,
)
from tests.isolation.plans import _plans_submitted


def _member_token(world) -> str:
    from accounts.models import PersonalToken

    token = PersonalToken.objects.filter(user=world.people["member"]).first()
    if token is None:
        from accounts.services import token_create

        token, _ = token_create(actor=world.people["member"], name="matrix", lifetime_days=30)
    return token.token_key


def _setup_member_token(world) -> None:
    _member_token(world)


def _member_session(world) -> int:
    """A browser the member is signed in with, other than the one making the request."""
    from accounts.models import UserSession

    row, _ = UserSession.objects.get_or_create(
        session_key="matrix0member0session0elsewhere", defaults={"user": world.people["member"]}
    )
    return row.pk


ROUTES: list[Route] = [
    # --- accounts: pages -------------------------------------------------------------
    Route("home", "GET", lambda w: "/", _page_for_everyone, 200),
    Route("organisation_list", "GET", lambda w: "/organisations/", _page_for_everyone, 200),
    Route(
        "organisation_detail",
        "GET",
        lambda w: f"/organisations/{w.org_a.ods_code}/",
        _s1_object_page,
        200,
    ),
    Route("system_detail", "GET", lambda w: f"/systems/{w.s1.code}/", _s1_object_page, 200),
    Route(
        "region_detail",
        "GET",
        lambda w: f"/regions/{w.r1.code}/",
        # People in S2 (same region) see the region page, showing only their own system.
        {"anonymous": LOGIN_REDIRECT, "other_reviewer": 404},
        200,
    ),
    Route("token_list", "GET", lambda w: "/account/tokens/", _page_for_everyone, 200),
    Route(
        "token_list",
        "POST",
        lambda w: "/account/tokens/",
        _page_for_everyone,
        200,
        data=lambda w: {"name": "script", "lifetime_days": "30"},
    ),
    Route(
        "token_revoke",
        "POST",
        lambda w: f"/account/tokens/{_member_token(w)}/revoke/",
        # Only the owner can revoke; to anyone else the token does not exist.
        {"anonymous": LOGIN_REDIRECT, "member": 302},
        404,
        setup=_setup_member_token,
    ),
    # Each person's own sessions: the page lists only theirs; another's is not found.
    Route("session_list", "GET", lambda w: "/account/sessions/", _page_for_everyone, 200),
    Route(
        "sessions_end_others",
        "POST",
        lambda w: "/account/sessions/sign-out-others/",
        _page_for_everyone,
        302,
    ),
    Route(
        "session_end",
        "POST",
        lambda w: f"/account/sessions/{_member_session(w)}/sign-out/",
        {"anonymous": LOGIN_REDIRECT, "member": 302},
        404,
        setup=_member_session,
    ),
    Route(
        "places_set",
        "POST",
        lambda w: "/account/places/",
        _page_for_everyone,
        302,
        data=lambda w: {"more": "1", "next": "/"},
    ),  # fmt: skip
    # Two-step verification: each person's own pages; the matrix's people have set none up,
    # so the code, removal and recovery-code pages send them on (302).
    Route("second_factor", "GET", lambda w: "/account/two-step/", _page_for_everyone, 200),
    Route(
        "second_factor_set_up",
        "GET",
        lambda w: "/account/two-step/set-up/",
        _page_for_everyone,
        200,
    ),
    Route(
        "second_factor_set_up",
        "POST",
        lambda w: "/account/two-step/set-up/",
        _page_for_everyone,
        422,
        # No code: the form again, nothing kept. (No one here can send a right one, so the
        # form fuzz passes it by: tests/accounts/test_second_factor.py sends it junk.)
    ),
    Route(
        "second_factor_verify",
        "GET",
        lambda w: "/account/two-step/verify/",
        _page_for_everyone,
        302,
    ),
    Route(
        "second_factor_verify",
        "POST",
        lambda w: "/account/two-step/verify/",
        _page_for_everyone,
        302,
        data=lambda w: {"code": "000000"},
    ),
    Route(
        "second_factor_remove",
        "GET",
        lambda w: "/account/two-step/remove/",
        _page_for_everyone,
        302,
    ),
    Route(
        "second_factor_remove",
        "POST",
        lambda w: "/account/two-step/remove/",
        _page_for_everyone,
        302,
        data=lambda w: {"password": "x"},
    ),
    Route(
        "recovery_codes",
        "GET",
        lambda w: "/account/two-step/recovery-codes/",
        _page_for_everyone,
        302,
    ),
    Route(
        "recovery_codes_replace",
        "POST",
        lambda w: "/account/two-step/recovery-codes/new/",
        _page_for_everyone,
        302,
    ),
    # Who must use it is the platform administrators' choice.
    Route(
        "second_factor_everyone",
        "POST",
        lambda w: "/account/two-step/everyone/",
        {"anonymous": LOGIN_REDIRECT, "admin": 302},
        403,
        data=lambda w: {"everyone": "1"},
    ),
    # --- notifications: each person's own ------------------------------------------------
    Route(
        "notification_list",
        "GET",
        lambda w: "/notifications/",
        _page_for_everyone,
        200,
        setup=lambda w: _plans_submitted(w),
    ),
    Route(
        "notification_open",
        "GET",
        lambda w: f"/notifications/{_lead_notification()}/",
        # The lead's notification: to anyone else it does not exist.
        {"anonymous": LOGIN_REDIRECT, "lead": 302},
        404,
        setup=lambda w: _plans_submitted(w),
    ),
    Route("notifications_read", "POST", lambda w: "/notifications/read/", _page_for_everyone, 302),
    Route(
        "notification_settings",
        "GET",
        lambda w: "/notifications/settings/",
        _page_for_everyone,
        200,
    ),
    Route(
        "notification_settings",
        "POST",
        lambda w: "/notifications/settings/",
        _page_for_everyone,
        302,
        data=lambda w: _every_choice("daily"),
    ),
    # --- accounts: API ----------------------------------------------------------------
    Route("api_me", "GET", lambda w: "/api/v1/me/", {"anonymous": API_ANONYMOUS}, 200, api=True),
    Route(
        "membership-list",
        "GET",
        lambda w: "/api/v1/memberships/",
        {"anonymous": API_ANONYMOUS},
        200,
        api=True,
    ),
    Route(
        "membership-detail",
        "GET",
        lambda w: f"/api/v1/memberships/{w.people['member'].memberships.first().pk}/",
        {"anonymous": API_ANONYMOUS, "member": 200},
        404,
        api=True,
        notes="a membership is visible to its holder only",
    ),
    Route(
        "organisation-list",
        "GET",
        lambda w: "/api/v1/organisations/",
        {"anonymous": API_ANONYMOUS},
        200,
        api=True,
    ),
    Route(
        "organisation-detail",
        "GET",
        lambda w: f"/api/v1/organisations/{w.org_a.ods_code}/",
        _s1_object_api,
        200,
        api=True,
    ),
    Route(
        "system-list",
        "GET",
        lambda w: "/api/v1/systems/",
        {"anonymous": API_ANONYMOUS},
        200,
        api=True,
    ),
    Route(
        "system-detail",
        "GET",
        lambda w: f"/api/v1/systems/{w.s1.code}/",
        _s1_object_api,
        200,
        api=True,
    ),
    Route(
        "token-list",
        "GET",
        lambda w: "/api/v1/tokens/",
        {"anonymous": API_ANONYMOUS},
        200,
        api=True,
    ),
    Route(
        "token-list",
        "POST",
        lambda w: "/api/v1/tokens/",
        {"anonymous": API_ANONYMOUS},
        201,
        data=lambda w: {"name": "matrix script", "lifetime_days": 30},
        api=True,
    ),
    Route(
        "token-detail",
        "DELETE",
        lambda w: f"/api/v1/tokens/{_member_token(w)}/",
        {"anonymous": API_ANONYMOUS, "member": 204},
        404,
        setup=_setup_member_token,
        api=True,
    ),
]


# --- invitations -----------------------------------------------------------------------------

INVITATION_TOKEN = "matrix-invitation-token-0123456789abcdef"
_S1_SEES = ["member", "approver", "viewer", "partner", "lead", "system_viewer", "reviewer"]


def _invitation(world) -> int:
    """An invitation to org A, made by its approver, with a link the matrix knows."""
    import hashlib
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Invitation, Role

    invitation, _ = Invitation.objects.get_or_create(
        token_hash=hashlib.sha256(INVITATION_TOKEN.encode()).hexdigest(),
        defaults={"email": "newcomer@example.nhs.uk", "role": Role.ORG_VIEWER,
                  "organisation": world.org_a, "invited_by": world.people["approver"],
                  "expires_at": timezone.now() + timedelta(days=7)},
    )  # fmt: skip
    return invitation.pk


def _invite_data(role: str):
    return lambda w: {"email": "newcomer@example.nhs.uk", "role": role}


_outside_s1 = {"anonymous": LOGIN_REDIRECT, "outsider": 404, "other_lead": 404,
               "other_reviewer": 404}  # fmt: skip
ROUTES += [
    # An organisation's approvers invite to it; people who can see it but not invite get 403.
    Route("organisation_invite", "GET", lambda w: f"/organisations/{w.org_a.ods_code}/invite/",
          {**_outside_s1, "approver": 200, "admin": 200}, 403),
    Route("organisation_invite", "POST", lambda w: f"/organisations/{w.org_a.ods_code}/invite/",
          {**_outside_s1, "approver": 302, "admin": 302}, 403, data=_invite_data("org_viewer")),
    # A system's leads, and its region's reviewers.
    Route("system_invite", "GET", lambda w: f"/systems/{w.s1.code}/invite/",
          {**_outside_s1, "lead": 200, "reviewer": 200, "admin": 200}, 403),
    Route("system_invite", "POST", lambda w: f"/systems/{w.s1.code}/invite/",
          {**_outside_s1, "lead": 302, "reviewer": 302, "admin": 302}, 403,
          data=_invite_data("system_viewer")),
    # A region's reviewers; everyone in its systems sees the region page, not this one.
    Route("region_invite", "GET", lambda w: f"/regions/{w.r1.code}/invite/",
          {"anonymous": LOGIN_REDIRECT, "other_reviewer": 404, "reviewer": 200, "admin": 200},
          403),
    Route("region_invite", "POST", lambda w: f"/regions/{w.r1.code}/invite/",
          {"anonymous": LOGIN_REDIRECT, "other_reviewer": 404, "reviewer": 302, "admin": 302},
          403, data=_invite_data("region_reviewer")),
    # The access review: for the same people, at the same places.
    Route("organisation_access", "GET", lambda w: f"/organisations/{w.org_a.ods_code}/access/",
          {**_outside_s1, "approver": 200, "admin": 200}, 403),
    Route("system_access", "GET", lambda w: f"/systems/{w.s1.code}/access/",
          {**_outside_s1, "lead": 200, "reviewer": 200, "admin": 200}, 403),
    Route("region_access", "GET", lambda w: f"/regions/{w.r1.code}/access/",
          {"anonymous": LOGIN_REDIRECT, "other_reviewer": 404, "reviewer": 200, "admin": 200},
          403),
    Route("membership_remove", "POST",
          lambda w: f"/memberships/{w.people['viewer'].memberships.get().pk}/remove/",
          {**_outside_s1, "approver": 302, "admin": 302}, 403,
          data=lambda w: {"reason": "left the trust", "back": "/"}),
    Route("invitation_withdraw", "POST", lambda w: f"/invitations/{_invitation(w)}/withdraw/",
          {**_outside_s1, "approver": 302, "admin": 302}, 403, setup=_invitation),
    # The link is the key (as a password reset's is): it shows the invitation to whoever
    # holds it; only the invited address can take it up.
    Route("invitation_accept", "GET", lambda w: f"/invitations/{INVITATION_TOKEN}/",
          {}, 200, setup=_invitation),
    Route("invitation_accept", "POST", lambda w: f"/invitations/{INVITATION_TOKEN}/",
          {"anonymous": 422}, 403, setup=_invitation,
          notes="signed in as someone else: refused; anonymous without a name: the form again"),
]  # fmt: skip


# --- importing people: platform administrators only ------------------------------------------

PEOPLE_FILE = (
    b"email,name,organisation code,role\r\nnewcomer@example.nhs.uk,New Comer,ZA1,Preparer\r\n"
)


def _people_upload(world) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"file": SimpleUploadedFile("people.csv", PEOPLE_FILE, content_type="text/csv")}


def _people_confirm(world) -> dict:
    """What the preview page posts back: the file, and the plan it showed the administrator."""
    import base64

    from accounts.people_import import people_import_check

    plan = people_import_check(actor=world.people["admin"], data=PEOPLE_FILE)
    return {"file": base64.b64encode(PEOPLE_FILE).decode(), "shown": plan.digest,
            "name": "people.csv"}  # fmt: skip


# Not about any one system: nothing to hide from outsiders, so everyone else is refused alike.
_admin_only = {"anonymous": LOGIN_REDIRECT}
ROUTES += [
    Route("people_import", "GET", lambda w: "/people/import/", {**_admin_only, "admin": 200}, 403),
    Route("people_import", "POST", lambda w: "/people/import/", {**_admin_only, "admin": 200},
          403, data=_people_upload, notes="the preview: nothing is stored"),
    Route("people_import_confirm", "POST", lambda w: "/people/import/confirm/",
          {**_admin_only, "admin": 302}, 403, data=_people_confirm),
    Route("people_import_template", "GET", lambda w: "/people/import/openbook-people.csv",
          {**_admin_only, "admin": 200}, 403),
]  # fmt: skip
