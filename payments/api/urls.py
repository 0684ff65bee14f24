from django.urls import path

from payments.api import views

A = "rounds/<slug:slug>/systems/<slug:code>/agreements/"
urlpatterns = [
    path(A, views.AgreementList.as_view(), name="api_agreement_list"),
    path(A + "<int:pk>/", views.AgreementDetail.as_view(), name="api_agreement_detail"),
    path(A + "<int:pk>/what-if/", views.AgreementWhatIf.as_view(), name="api_agreement_what_if"),
    path(A + "<int:pk>/sign/", views.AgreementSign.as_view(), name="api_agreement_sign"),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/results/",
        views.SystemResults.as_view(),
        name="api_system_results",
    ),
]
