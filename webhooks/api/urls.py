from django.urls import path

from webhooks.api import views

W = "systems/<slug:code>/webhooks/"
urlpatterns = [
    path(W, views.EndpointList.as_view(), name="api_webhook_list"),
    path(W + "<int:pk>/", views.EndpointDetail.as_view(), name="api_webhook_detail"),
    path(
        W + "<int:pk>/rotate-secret/",
        views.EndpointRotateSecret.as_view(),
        name="api_webhook_rotate_secret",
    ),
    path(W + "<int:pk>/ping/", views.EndpointPing.as_view(), name="api_webhook_ping"),
    path(W + "<int:pk>/deliveries/", views.DeliveryList.as_view(), name="api_webhook_deliveries"),
    path(
        W + "<int:pk>/deliveries/<str:delivery_id>/resend/",
        views.DeliveryResend.as_view(),
        name="api_webhook_resend",
    ),
]
