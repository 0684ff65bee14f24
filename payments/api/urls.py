from django.urls import path

from payments.api import views

S = "rounds/<slug:slug>/systems/<slug:code>/"
A = S + "agreements/"
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
    path(S + "control-totals/", views.ControlTotals.as_view(), name="api_control_totals"),
    path(
        S + "control-totals/import/",
        views.ControlTotalsImport.as_view(),
        name="api_control_totals_import",
    ),
    path(S + "transfers/", views.TransferList.as_view(), name="api_transfer_list"),
    path(S + "transfers/<int:pk>/", views.TransferDetail.as_view(), name="api_transfer_detail"),
    path(
        S + "transfers/<int:pk>/decide/", views.TransferDecide.as_view(), name="api_transfer_decide"
    ),
    path(
        S + "transfers/<int:pk>/withdraw/",
        views.TransferWithdraw.as_view(),
        name="api_transfer_withdraw",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/results/",
        views.SystemResults.as_view(),
        name="api_system_results",
    ),
]
