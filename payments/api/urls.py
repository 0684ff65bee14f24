from django.urls import path

from payments.api import control_totals, fund, views

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
    path(S + "control-totals/", control_totals.ControlTotals.as_view(), name="api_control_totals"),
    path(
        S + "control-totals/import/",
        control_totals.ControlTotalsImport.as_view(),
        name="api_control_totals_import",
    ),
    path(S + "transfers/", control_totals.TransferList.as_view(), name="api_transfer_list"),
    path(
        S + "transfers/<int:pk>/",
        control_totals.TransferDetail.as_view(),
        name="api_transfer_detail",
    ),
    path(
        S + "transfers/<int:pk>/decide/",
        control_totals.TransferDecide.as_view(),
        name="api_transfer_decide",
    ),
    path(
        S + "transfers/<int:pk>/withdraw/",
        control_totals.TransferWithdraw.as_view(),
        name="api_transfer_withdraw",
    ),
    path(S + "fund/", fund.FundDetail.as_view(), name="api_fund"),
    path(S + "fund/rules/", fund.FundRules.as_view(), name="api_fund_rules"),
    path(S + "fund/share/", fund.FundShare.as_view(), name="api_fund_share"),
    path(S + "fund/allocations/", fund.FundAllocations.as_view(), name="api_fund_allocations"),
    path(S + "fund/releases/", fund.ReleaseList.as_view(), name="api_release_list"),
    path(
        S + "fund/releases/<int:pk>/decide/",
        fund.ReleaseDecide.as_view(),
        name="api_release_decide",
    ),
    path(
        S + "fund/releases/<int:pk>/withdraw/",
        fund.ReleaseWithdraw.as_view(),
        name="api_release_withdraw",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/results/",
        views.SystemResults.as_view(),
        name="api_system_results",
    ),
]
