from django.urls import path

from accounts.api import views
from openbook.api import router

router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("systems", views.SystemViewSet, basename="system")
router.register("tokens", views.TokenViewSet, basename="token")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api_me"),
]
