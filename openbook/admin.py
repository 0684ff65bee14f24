from django.contrib import admin

from openbook.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only (and the database refuses changes anyway)."""

    list_display = ["chain", "seq", "occurred_at", "action", "actor_label", "object_type"]
    list_filter = ["action", "chain"]
    search_fields = ["actor_label", "object_id", "request_id", "hash"]
    date_hierarchy = "occurred_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
