from rest_framework import serializers

from accounts.models import Membership, Organisation, PersonalToken, Region, System
from accounts.services import TOKEN_LIFETIMES_DAYS


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


class SystemSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    organisation_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = System
        fields = ["code", "name", "region", "organisation_count"]


class OrganisationSerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Organisation
        fields = ["ods_code", "name", "kind", "system"]


class MembershipSerializer(serializers.ModelSerializer):
    # A membership is held at one level: the other two are null.
    organisation = serializers.SlugRelatedField(
        slug_field="ods_code", read_only=True, allow_null=True
    )
    system = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Membership
        fields = ["id", "role", "organisation", "system", "region"]


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    is_platform_admin = serializers.BooleanField()
    memberships = MembershipSerializer(many=True)


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonalToken
        fields = ["token_key", "name", "created", "expiry", "last_used_at"]


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    lifetime_days = serializers.ChoiceField(choices=TOKEN_LIFETIMES_DAYS, default=90)


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(help_text="The token itself. It is shown once, never again.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
