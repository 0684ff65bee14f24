from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views, views_sessions

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
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
    path("systems/<slug:code>/", views.system_detail, name="system_detail"),
    path("regions/<slug:code>/", views.region_detail, name="region_detail"),
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
]
