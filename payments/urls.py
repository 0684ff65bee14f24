from django.urls import path

from payments import agreement_views, fund_views, views

S = "rounds/<slug:slug>/systems/<slug:code>/"
urlpatterns = [
    path(
        "rounds/<slug:slug>/recalculation/",
        views.national_recalculation,
        name="national_recalculation",
    ),
    path(S + "control-totals/", views.control_totals, name="control_totals"),
    path(S + "control-totals/save/", views.control_totals_save, name="control_totals_save"),
    path(S + "transfers/", views.transfer_propose, name="transfer_propose"),
    path(S + "transfers/<int:pk>/decide/", views.transfer_decide, name="transfer_decide"),
    path(S + "transfers/<int:pk>/withdraw/", views.transfer_withdraw, name="transfer_withdraw"),
    path(S + "fund/", fund_views.fund, name="fund"),
    path(S + "fund/rules/", fund_views.fund_rules, name="fund_rules"),
    path(S + "fund/share/", fund_views.fund_share, name="fund_share"),
    path(S + "fund/allocations/", fund_views.fund_allocations, name="fund_allocations"),
    path(S + "fund/releases/", fund_views.release_propose, name="release_propose"),
    path(S + "fund/releases/<int:pk>/decide/", fund_views.release_decide, name="release_decide"),
    path(
        S + "fund/releases/<int:pk>/withdraw/",
        fund_views.release_withdraw,
        name="release_withdraw",
    ),
    path(S + "agreements/", agreement_views.agreement_list, name="agreement_list"),
    path(S + "agreements/new/", agreement_views.agreement_form, name="agreement_new"),
    path(S + "agreements/<int:pk>/", agreement_views.agreement_detail, name="agreement_detail"),
    path(S + "agreements/<int:pk>/edit/", agreement_views.agreement_form, name="agreement_edit"),
    path(S + "agreements/<int:pk>/sign/", agreement_views.agreement_sign, name="agreement_sign"),
    path(
        S + "agreements/<int:pk>/settlements/",
        agreement_views.settlement_enter,
        name="settlement_enter",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/",
        agreement_views.settlement_detail,
        name="settlement_detail",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/propose/",
        agreement_views.settlement_propose,
        name="settlement_propose",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/withdraw/",
        agreement_views.settlement_withdraw,
        name="settlement_withdraw",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/respond/",
        agreement_views.settlement_respond,
        name="settlement_respond",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/decide/",
        agreement_views.settlement_decide,
        name="settlement_decide",
    ),
]
