from django.urls import path

from openbook.api import router
from plans.api import returns, views

router.register("rounds", views.RoundViewSet, basename="round")
router.register("templates", views.TemplateViewSet, basename="template")

S = "rounds/<slug:slug>/submissions/<str:ods_code>/"
R = "rounds/<slug:slug>/returns/<str:ods_code>/"
urlpatterns = [
    path(
        "rounds/<slug:slug>/submissions/",
        views.SubmissionList.as_view(),
        name="api_submission_list",
    ),
    path(S, views.SubmissionDetail.as_view(), name="api_submission_detail"),
    path(S + "versions/<int:number>/", views.VersionDetail.as_view(), name="api_version_detail"),
    path(S + "draft/values/", views.DraftValues.as_view(), name="api_draft_values"),
    path(
        S + "draft/narratives/<slug:section>/",
        views.DraftNarrative.as_view(),
        name="api_draft_narrative",
    ),
    path(S + "draft/tables/<slug:section>/", views.DraftTable.as_view(), name="api_draft_table"),
    path(S + "submit/", views.Submit.as_view(), name="api_submit"),
    path(S + "accept/", views.Accept.as_view(), name="api_accept"),
    path(S + "return/", views.Return.as_view(), name="api_return"),
    path(S + "recall/", views.Recall.as_view(), name="api_recall"),
    path(S + "comments/", views.Comments.as_view(), name="api_comments"),
    path(S + "diff/", views.Diff.as_view(), name="api_diff"),
    path(R, returns.ReturnList.as_view(), name="api_return_list"),
    path(R + "<int:month>/", returns.ReturnDetail.as_view(), name="api_return_detail"),
    path(R + "<int:month>/submit/", returns.ReturnSubmit.as_view(), name="api_return_submit"),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/plan/",
        views.SystemPlanView.as_view(),
        name="api_system_plan",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/balances/",
        views.BalancesView.as_view(),
        name="api_system_balances",
    ),
]
