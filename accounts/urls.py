from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import (
    views,
    views_invitations,
    views_people,
    views_second_factor,
    views_sessions,
    views_sso,
)
from accounts.middleware import exempt
from accounts.rowsecurity import no_tenant_data

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", exempt(auth_views.LogoutView.as_view()), name="logout"),
    path("sso/start/", exempt(no_tenant_data(views_sso.Start.as_view())), name="sso_start"),
    path(
        "sso/callback/",
        exempt(no_tenant_data(views_sso.Callback.as_view())),
        name="sso_callback",
    ),
    path(
        "password/change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/<str:ods_code>/", views.organisation_detail, name="organisation_detail"),
    path(
        "organisations/<str:code>/invite/",
        views_invitations.invite,
        {"kind": "organisation"},
        name="organisation_invite",
    ),
    path(
        "systems/<slug:code>/invite/",
        views_invitations.invite,
        {"kind": "system"},
        name="system_invite",
    ),
    path(
        "regions/<slug:code>/invite/",
        views_invitations.invite,
        {"kind": "region"},
        name="region_invite",
    ),
    path("invitations/<int:pk>/withdraw/", views_invitations.withdraw, name="invitation_withdraw"),
    path(
        "organisations/<str:code>/access/",
        views_invitations.access,
        {"kind": "organisation"},
        name="organisation_access",
    ),
    path(
        "systems/<slug:code>/access/",
        views_invitations.access,
        {"kind": "system"},
        name="system_access",
    ),
    path(
        "regions/<slug:code>/access/",
        views_invitations.access,
        {"kind": "region"},
        name="region_access",
    ),
    path("memberships/<int:pk>/remove/", views_invitations.remove, name="membership_remove"),
    path("invitations/<str:token>/", views_invitations.accept, name="invitation_accept"),
    path("systems/<slug:code>/", views.system_detail, name="system_detail"),
    path("regions/<slug:code>/", views.region_detail, name="region_detail"),
    path("people/import/", views_people.people_import_upload, name="people_import"),
    path(
        "people/import/confirm/", views_people.people_import_confirm, name="people_import_confirm"
    ),
    path(
        "people/import/openbook-people.csv",
        views_people.people_import_template,
        name="people_import_template",
    ),
    path("account/places/", views.places_set, name="places_set"),
    path("account/tokens/", views.token_list, name="token_list"),
    path("account/tokens/<str:token_key>/revoke/", views.token_revoke, name="token_revoke"),
    path("account/sessions/", views_sessions.session_list, name="session_list"),
    path(
        "account/sessions/sign-out-others/",
        views_sessions.sessions_end_others,
        name="sessions_end_others",
    ),
    path("account/sessions/<int:pk>/sign-out/", views_sessions.session_end, name="session_end"),
    path("account/two-step/", views_second_factor.overview, name="second_factor"),
    path("account/two-step/set-up/", views_second_factor.set_up, name="second_factor_set_up"),
    path("account/two-step/verify/", views_second_factor.verify, name="second_factor_verify"),
    path("account/two-step/remove/", views_second_factor.remove, name="second_factor_remove"),
    path(
        "account/two-step/recovery-codes/",
        views_second_factor.recovery_codes,
        name="recovery_codes",
    ),
    path(
        "account/two-step/recovery-codes/new/",
        views_second_factor.recovery_codes_replace,
        name="recovery_codes_replace",
    ),
    path(
        "account/two-step/everyone/",
        views_second_factor.everyone_set,
        name="second_factor_everyone",
    ),
]
