"""The accounts API: who am I, what can I see, and my personal tokens."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy, selectors, services
from accounts.api import serializers
from accounts.authentication import TokenAuthentication


class MeView(APIView):
    """The signed-in person and their memberships."""

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request):
        data = {
            "email": request.user.email,
            "full_name": request.user.full_name,
            "is_platform_admin": policy.is_platform_admin(request.user),
            "memberships": selectors.memberships_of(request.user),
        }
        return Response(serializers.MeSerializer(data).data)


class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in person's own memberships."""

    serializer_class = serializers.MembershipSerializer

    def get_queryset(self):
        return selectors.memberships_of(self.request.user)


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    """Organisations the signed-in person can see (their own and their system partners')."""

    serializer_class = serializers.OrganisationSerializer
    lookup_field = "ods_code"
    filterset_fields = ["kind"]

    def get_queryset(self):
        return selectors.organisations_visible_to(self.request.user).order_by("ods_code")

    def get_object(self):
        return selectors.organisation_get(self.request.user, self.kwargs["ods_code"])


class SystemViewSet(viewsets.ReadOnlyModelViewSet):
    """Systems the signed-in person can see."""

    serializer_class = serializers.SystemSerializer
    lookup_field = "code"

    def get_queryset(self):
        return selectors.systems_visible_to(self.request.user).order_by("code")

    def get_object(self):
        return selectors.system_get(self.request.user, self.kwargs["code"])


class TokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The signed-in person's API tokens: list, make (shown once), revoke."""

    serializer_class = serializers.TokenSerializer
    lookup_field = "token_key"

    def get_queryset(self):
        return selectors.tokens_of(self.request.user)

    def get_object(self):
        return selectors.token_get(self.request.user, self.kwargs["token_key"])

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A leaked token must not be able to mint a longer-lived one or revoke its owner's
        # others: tokens are managed only when signed in.
        if self.action in ("create", "destroy") and isinstance(
            request.successful_authenticator, TokenAuthentication
        ):
            raise PermissionDenied("Tokens are made and revoked when signed in, not with a token.")

    @extend_schema(
        request=serializers.TokenCreateSerializer,
        responses={201: serializers.TokenCreatedSerializer},
    )
    def create(self, request):
        incoming = serializers.TokenCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        token, clear = services.token_create(actor=request.user, **incoming.validated_data)
        token.token = clear  # shown in this one response, never stored
        return Response(
            serializers.TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED
        )

    def perform_destroy(self, instance):
        services.token_revoke(actor=self.request.user, token=instance)
