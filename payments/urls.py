from django.urls import path

from payments import views

S = "rounds/<slug:slug>/systems/<slug:code>/"
urlpatterns = [
    path(S + "control-totals/", views.control_totals, name="control_totals"),
    path(S + "control-totals/save/", views.control_totals_save, name="control_totals_save"),
    path(S + "transfers/", views.transfer_propose, name="transfer_propose"),
    path(S + "transfers/<int:pk>/decide/", views.transfer_decide, name="transfer_decide"),
    path(S + "transfers/<int:pk>/withdraw/", views.transfer_withdraw, name="transfer_withdraw"),
]
