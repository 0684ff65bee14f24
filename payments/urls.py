from django.urls import path

from payments.views import agreements, control_totals, fund, settlements

S = "rounds/<slug:slug>/systems/<slug:code>/"
urlpatterns = [
    path(
        "rounds/<slug:slug>/recalculation/",
        control_totals.national_recalculation,
        name="national_recalculation",
    ),
    path(S + "control-totals/", control_totals.control_totals, name="control_totals"),
    path(
        S + "control-totals/save/", control_totals.control_totals_save, name="control_totals_save"
    ),
    path(S + "transfers/", control_totals.transfer_propose, name="transfer_propose"),
    path(S + "transfers/<int:pk>/decide/", control_totals.transfer_decide, name="transfer_decide"),
    path(
        S + "transfers/<int:pk>/withdraw/",
        control_totals.transfer_withdraw,
        name="transfer_withdraw",
    ),
    path(S + "fund/", fund.fund, name="fund"),
    path(S + "fund/rules/", fund.fund_rules, name="fund_rules"),
    path(S + "fund/share/", fund.fund_share, name="fund_share"),
    path(S + "fund/allocations/", fund.fund_allocations, name="fund_allocations"),
    path(S + "fund/releases/", fund.release_propose, name="release_propose"),
    path(S + "fund/releases/<int:pk>/decide/", fund.release_decide, name="release_decide"),
    path(
        S + "fund/releases/<int:pk>/withdraw/",
        fund.release_withdraw,
        name="release_withdraw",
    ),
    path(S + "agreements/", agreements.agreement_list, name="agreement_list"),
    path(S + "agreements/new/", agreements.agreement_form, name="agreement_new"),
    path(S + "agreements/<int:pk>/", agreements.agreement_detail, name="agreement_detail"),
    path(S + "agreements/<int:pk>/edit/", agreements.agreement_form, name="agreement_edit"),
    path(S + "agreements/<int:pk>/sign/", agreements.agreement_sign, name="agreement_sign"),
    path(
        S + "agreements/<int:pk>/settlements/",
        settlements.settlement_enter,
        name="settlement_enter",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/",
        settlements.settlement_detail,
        name="settlement_detail",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/propose/",
        settlements.settlement_propose,
        name="settlement_propose",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/withdraw/",
        settlements.settlement_withdraw,
        name="settlement_withdraw",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/respond/",
        settlements.settlement_respond,
        name="settlement_respond",
    ),
    path(
        S + "agreements/<int:pk>/settlements/<int:sid>/decide/",
        settlements.settlement_decide,
        name="settlement_decide",
    ),
]
