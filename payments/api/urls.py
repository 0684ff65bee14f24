from django.urls import path

from payments.api import views

A = "rounds/<slug:slug>/systems/<slug:code>/agreements/"
urlpatterns = [
    path(A, views.AgreementList.as_view(), name="api_agreement_list"),
    path(A + "<int:pk>/", views.AgreementDetail.as_view(), name="api_agreement_detail"),
    path(A + "<int:pk>/what-if/", views.AgreementWhatIf.as_view(), name="api_agreement_what_if"),
    path(A + "<int:pk>/sign/", views.AgreementSign.as_view(), name="api_agreement_sign"),
    path(A + "<int:pk>/settlements/", views.SettlementList.as_view(), name="api_settlement_list"),
    path(
        A + "<int:pk>/settlements/<int:sid>/",
        views.SettlementDetail.as_view(),
        name="api_settlement_detail",
    ),
    path(
        A + "<int:pk>/settlements/<int:sid>/propose/",
        views.SettlementPropose.as_view(),
        name="api_settlement_propose",
    ),
    path(
        A + "<int:pk>/settlements/<int:sid>/withdraw/",
        views.SettlementWithdraw.as_view(),
        name="api_settlement_withdraw",
    ),
    path(
        A + "<int:pk>/settlements/<int:sid>/respond/",
        views.SettlementRespond.as_view(),
        name="api_settlement_respond",
    ),
    path(
        A + "<int:pk>/settlements/<int:sid>/decide/",
        views.SettlementDecide.as_view(),
        name="api_settlement_decide",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/results/",
        views.SystemResults.as_view(),
        name="api_system_results",
    ),
]
