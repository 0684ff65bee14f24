"""Platform administration: regions, systems, organisations, people and their roles.

Membership changes made here go through the audited services.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import devices, services
from accounts.models import (
    Membership,
    Organisation,
    PersonalToken,
    Region,
    SecuritySetting,
    System,
    User,
)

# A person's authenticator and recovery codes are theirs: administrators reset them (audited,
# the action on people below), never read or edit them.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _save_membership(request, membership: Membership) -> Membership:
    """Create or change a membership through the audited services."""
    if membership.pk is None:
        return services.membership_create(
            actor=request.user,
            user=membership.user,
            role=membership.role,
            organisation=membership.organisation,
            system=membership.system,
            region=membership.region,
        )
    before = services.membership_snapshot(Membership.objects.get(pk=membership.pk))
    services.membership_update(actor=request.user, membership=membership, before=before)
    return membership


AUDITED_FIELDS = {
    "is_active",
    "is_staff",
    "is_superuser",
    "email",
    "system",
    "kind",
    "ods_code",
    "name",
}


def _save_audited(request, obj, form, change, save):
    """Save, and audit the fields that matter for access and tenancy."""
    changed = [f for f in form.changed_data if f in AUDITED_FIELDS] if change else []
    before = {f: form.initial.get(f) for f in changed}
    save(request, obj, form, change)
    services.admin_change_record(
        actor=request.user, obj=obj, changed=changed,
        before={k: str(v) if v is not None else None for k, v in before.items()},
    )  # fmt: skip


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["role", "organisation", "system", "region"]
    autocomplete_fields = ["organisation", "system", "region"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "job_title"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]
    inlines = [MembershipInline]
    actions = ["reset_second_factor"]

    @admin.action(description="Reset two-step verification (lost phone and recovery codes)")
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            devices.reset(actor=request.user, user=user)
        messages.success(request, f"Two-step verification reset for {len(queryset)} "
                         "person(s); they set it up again when next asked.")  # fmt: skip

    def save_model(self, request, obj, form, change):
        if change and "is_active" in form.changed_data and obj.is_active:
            # Re-activated (an expired account, accounts/expiry.py): a new period starts now.
            obj.reactivated_at, obj.expiry_warned_at = timezone.now(), None
        _save_audited(request, obj, form, change, super().save_model)

    def user_change_password(self, request, id, form_url=""):
        """An administrator setting a person's password (or turning password sign-in off)
        revokes their API tokens as the person's own change does, audited as done by the
        administrator. Told by the stored password changing, whichever way the page went."""
        user = self.get_object(request, unquote(id))
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if user is not None and request.method == "POST":
                after = User.objects.get(pk=user.pk)
                if after.password != user.password:
                    revoked = services.password_changed(
                        actor=request.user, user=after, how="set by an administrator"
                    )
                    if revoked:
                        plural = "s" if revoked != 1 else ""
                        messages.info(
                            request, f"Their {revoked} API token{plural} stopped working."
                        )
        return response

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_delete(actor=request.user, membership=membership)
        for membership in instances:
            _save_membership(request, membership)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "organisation", "system", "region"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__full_name", "organisation__name", "system__name"]
    autocomplete_fields = ["user", "organisation", "system", "region"]

    def save_model(self, request, obj, form, change):
        obj.pk = _save_membership(request, obj).pk

    def delete_model(self, request, obj):
        services.membership_delete(actor=request.user, membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            services.membership_delete(actor=request.user, membership=membership)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(System)
class SystemAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "region"]
    list_filter = ["region"]
    search_fields = ["name", "code"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "ods_code", "kind", "system"]
    list_filter = ["kind", "system__region", "system"]
    search_fields = ["name", "ods_code"]

    def save_model(self, request, obj, form, change):
        _save_audited(request, obj, form, change, super().save_model)


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    """Administrators can see and revoke tokens, never read them (only hashes are stored)."""

    list_display = ["name", "user", "token_key", "created", "expiry", "last_used_at"]
    readonly_fields = ["name", "user", "token_key", "digest", "created", "expiry", "last_used_at"]
    search_fields = ["user__email", "name"]

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        services.token_revoke(actor=request.user, token=obj)

    def delete_queryset(self, request, queryset):
        for token in queryset:
            services.token_revoke(actor=request.user, token=token)


@admin.register(SecuritySetting)
class SecuritySettingAdmin(admin.ModelAdmin):
    """The one row of sign-in rules; changed through the audited service."""

    list_display = ["__str__", "second_factor_for_everyone", "changed_at", "changed_by"]
    fields = ["second_factor_for_everyone", "changed_at", "changed_by"]
    readonly_fields = ["changed_at", "changed_by"]

    def has_add_permission(self, request):
        return not SecuritySetting.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = devices.everyone_set(actor=request.user, required=obj.second_factor_for_everyone)
        obj.pk = saved.pk
