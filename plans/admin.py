"""Platform administration of templates and planning rounds (rounds saved through the service)."""

from django.contrib import admin

from plans.models import (
    Comment,
    Line,
    PlanningRound,
    Section,
    Submission,
    Template,
    TemplateVersion,
)
from plans.services import round_save


@admin.register(PlanningRound)
class PlanningRoundAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "financial_year",
        "template_version",
        "draft_deadline",
        "final_deadline",
    ]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        round_save(actor=request.user, plan_round=obj)


class LineInline(admin.TabularInline):
    model = Line
    extra = 0
    fields = ["code", "label", "unit", "sign", "kinds", "counterparty", "formula", "required"]

    def has_change_permission(self, request, obj=None):
        return False  # a loaded template version is frozen

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    """Templates are data files loaded with `openbook load_template`; here they are read-only."""

    list_display = ["template", "number", "loaded_at", "checksum"]
    readonly_fields = ["template", "number", "checksum", "loaded_at", "definition"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "template_version"]
    list_filter = ["template_version"]
    inlines = [LineInline]

    def has_change_permission(self, request, obj=None):
        return False


admin.site.register(Template)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """Read-only: submissions change only through the workflow, by the people it names."""

    list_display = ["organisation", "round", "status", "updated_at"]
    list_filter = ["round", "status"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Read-only: comments (return reasons among them) are part of the plan's record."""

    list_display = ["submission", "author", "kind", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
