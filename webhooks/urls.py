from django.urls import path

from webhooks import views

W = "systems/<slug:code>/webhooks/"
urlpatterns = [
    path(W, views.webhook_list, name="webhook_list"),
    path(W + "<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path(W + "<int:pk>/ping/", views.webhook_ping, name="webhook_ping"),
    path(W + "<int:pk>/rotate-secret/", views.webhook_rotate_secret, name="webhook_rotate_secret"),
    path(W + "<int:pk>/remove/", views.webhook_remove, name="webhook_remove"),
    path(
        W + "<int:pk>/deliveries/<str:delivery_id>/resend/",
        views.webhook_resend,
        name="webhook_resend",
    ),
]
