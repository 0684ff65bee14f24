from rest_framework import serializers

from plans.models import Comment, Line, PlanningRound, Section, Submission, TemplateVersion, Version


class RoundSerializer(serializers.ModelSerializer):
    template_version = serializers.IntegerField(source="template_version_id")
    template = serializers.CharField(source="template_version.label")
    year = serializers.CharField(source="year_label")

    class Meta:
        model = PlanningRound
        fields = ["slug", "name", "financial_year", "year", "template_version", "template",
                  "draft_deadline", "final_deadline"]  # fmt: skip


class LineSerializer(serializers.ModelSerializer):
    derived = serializers.BooleanField(source="is_derived")

    class Meta:
        model = Line
        fields = ["code", "label", "unit", "sign", "kinds", "counterparty", "derived", "formula",
                  "minimum", "maximum", "required", "role", "balances_with", "counterparty_kinds",
                  "staff_group"]  # fmt: skip


class SectionSerializer(serializers.ModelSerializer):
    lines = LineSerializer(many=True)

    class Meta:
        model = Section
        fields = ["code", "name", "kind", "guidance", "kinds", "required", "lines"]


class TemplateVersionSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template.code")
    name = serializers.CharField(source="template.name")

    class Meta:
        model = TemplateVersion
        fields = ["id", "template", "name", "number", "checksum"]


class TemplateVersionDetailSerializer(TemplateVersionSerializer):
    sections = SectionSerializer(many=True)

    class Meta(TemplateVersionSerializer.Meta):
        fields = [*TemplateVersionSerializer.Meta.fields, "sections"]


class VersionSerializer(serializers.ModelSerializer):
    is_draft = serializers.BooleanField()
    created_by = serializers.CharField(source="created_by.full_name", allow_null=True, default=None)

    class Meta:
        model = Version
        fields = ["number", "is_draft", "created_at", "created_by", "revision",
                  "board_approval_date", "late", "late_reason"]  # fmt: skip


class SubmissionSerializer(serializers.ModelSerializer):
    round = serializers.CharField(source="round.slug")
    organisation = serializers.CharField(source="organisation.ods_code")
    organisation_name = serializers.CharField(source="organisation.name")

    class Meta:
        model = Submission
        fields = ["round", "organisation", "organisation_name", "status", "updated_at"]


class SubmissionDetailSerializer(SubmissionSerializer):
    versions = VersionSerializer(many=True, source="visible_versions")

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "versions"]


class CellSerializer(serializers.Serializer):
    line = serializers.CharField(max_length=20)
    counterparty = serializers.CharField(
        max_length=5, required=False, allow_null=True, allow_blank=True
    )
    month = serializers.IntegerField(min_value=1, max_value=12)
    value = serializers.DecimalField(max_digits=18, decimal_places=3, allow_null=True)


FIGURE_HELP = (
    "A figure as a string (or a JSON number), read as every figure in Openbook is: digits 0 to "
    "9, commas only between thousands, at most one decimal point, a minus sign or brackets "
    "for a negative; null or blank for none. Anything else is refused naming the cell."
)


class CellInputSerializer(CellSerializer):
    # Read as text, so the one grammar (plans.calculations.parse_value) decides, as for the
    # grid and uploads: "5e2" and "1_000" are refused there, "1,234" and "(5)" accepted.
    value = serializers.CharField(
        allow_null=True, allow_blank=True, max_length=40, help_text=FIGURE_HELP
    )
    expected = serializers.CharField(
        allow_null=True, allow_blank=True, required=False, max_length=40,
        help_text="The value you started from (null for an empty cell), as `value`. If "
        "someone has changed the cell since, the whole request is refused with 409.",
    )  # fmt: skip


class DraftValuesInputSerializer(serializers.Serializer):
    values = CellInputSerializer(many=True, allow_empty=False, max_length=20000)


class DraftValuesResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField()
    revision = serializers.IntegerField()


class TableRowSerializer(serializers.Serializer):
    """A row of a table section: what each column says, and its twelve months (£000, April
    first). Figures may be sent as numbers or text; each is checked as a typed one is."""

    fields = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=400))
    amounts = serializers.ListField(
        child=serializers.JSONField(allow_null=True), min_length=12, max_length=12
    )


class TableSerializer(serializers.Serializer):
    section = serializers.CharField()
    rows = TableRowSerializer(many=True)
    # What the table holds: send it back as `started` to be refused rather than overwrite a
    # change made in between.
    fingerprint = serializers.CharField()


class TableInputSerializer(serializers.Serializer):
    rows = TableRowSerializer(many=True, max_length=1000)
    started = serializers.CharField(required=False, max_length=64)


class VersionValuesSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    values = CellSerializer(many=True)
    narratives = serializers.DictField(child=serializers.CharField())
    tables = serializers.DictField(child=TableRowSerializer(many=True))


class NarrativeInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, max_length=20000, trim_whitespace=True)


class SubmitInputSerializer(serializers.Serializer):
    board_approval_date = serializers.DateField()
    confirmed = serializers.BooleanField()
    late_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )


class AcceptInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the plan is accepted despite its agreement-of-balances mismatches or "
        "pay-per-WTE flags: required when it has any.",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you reviewed: the highest version number in the plan when you "
        "read it. "
        "If the plan has been resubmitted since, the answer is 409 and nothing is accepted.",
    )


class ReturnInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.full_name")
    line = serializers.CharField(source="line.code", allow_null=True, default=None)
    parent = serializers.IntegerField(source="parent_id", allow_null=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "kind", "body", "line", "parent", "created_at"]


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)
    line = serializers.CharField(max_length=20, required=False, allow_null=True, allow_blank=True)
    parent = serializers.IntegerField(required=False, allow_null=True)


class ChangeSerializer(serializers.Serializer):
    line = serializers.CharField()
    counterparty = serializers.CharField(allow_null=True)
    month = serializers.IntegerField()
    before = serializers.DecimalField(max_digits=18, decimal_places=3, allow_null=True)
    after = serializers.DecimalField(max_digits=18, decimal_places=3, allow_null=True)
    delta = serializers.DecimalField(max_digits=18, decimal_places=3)


class DiffSerializer(serializers.Serializer):
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    changes = ChangeSerializer(many=True)
    totals = serializers.DictField(child=serializers.DecimalField(max_digits=18, decimal_places=3))


class OrgStatusSerializer(serializers.Serializer):
    organisation = serializers.CharField(source="organisation.ods_code")
    name = serializers.CharField(source="organisation.name")
    kind = serializers.CharField(source="organisation.kind")
    state = serializers.CharField()
    late = serializers.BooleanField()


class LineTotalSerializer(serializers.Serializer):
    line = serializers.CharField()
    month = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=20, decimal_places=3)


class ConsolidatedMonthSerializer(serializers.Serializer):
    month = serializers.IntegerField()
    income = serializers.DecimalField(max_digits=20, decimal_places=3)
    expenditure = serializers.DecimalField(max_digits=20, decimal_places=3)
    eliminated = serializers.DecimalField(max_digits=20, decimal_places=3)
    surplus = serializers.DecimalField(max_digits=20, decimal_places=3)


class SystemPlanSerializer(serializers.Serializer):
    round = serializers.CharField()
    system = serializers.CharField()
    organisations = OrgStatusSerializer(many=True)
    surplus_by_organisation = serializers.DictField(
        child=serializers.DecimalField(max_digits=20, decimal_places=3)
    )
    consolidated = ConsolidatedMonthSerializer(many=True)
    totals = LineTotalSerializer(many=True)


class PairBalanceSerializer(serializers.Serializer):
    measure = serializers.CharField()
    provider = serializers.CharField()
    commissioner = serializers.CharField()
    # Null for a side whose plan is not in yet (status "awaiting"), and then no difference.
    provider_figure = serializers.DecimalField(
        max_digits=20, decimal_places=3, allow_null=True, source="known_provider_figure"
    )
    commissioner_figure = serializers.DecimalField(
        max_digits=20, decimal_places=3, allow_null=True, source="known_commissioner_figure"
    )
    difference = serializers.DecimalField(
        max_digits=20, decimal_places=3, allow_null=True, source="known_difference"
    )
    percent = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, source="known_percent"
    )
    flagged = serializers.BooleanField()
    status = serializers.ChoiceField(
        choices=["agreed", "mismatch", "awaiting"],
        help_text="awaiting: the other side has no submitted or accepted plan yet.",
    )
    awaiting = serializers.CharField(
        allow_null=True, help_text="ODS code of the side whose plan is not in yet."
    )
    agreed_figure = serializers.DecimalField(max_digits=20, decimal_places=3, allow_null=True)


class PayCheckSerializer(serializers.Serializer):
    organisation = serializers.CharField(source="ods_code")
    group = serializers.CharField()
    pay = serializers.DecimalField(max_digits=20, decimal_places=3)
    wte = serializers.DecimalField(max_digits=20, decimal_places=2)
    per_wte = serializers.DecimalField(max_digits=20, decimal_places=3, allow_null=True)
    flagged = serializers.BooleanField()


class BalancesSerializer(serializers.Serializer):
    round = serializers.CharField()
    system = serializers.CharField()
    income_threshold = serializers.DecimalField(max_digits=12, decimal_places=3)
    activity_threshold_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    pairs = PairBalanceSerializer(many=True)
    pay_per_wte = PayCheckSerializer(many=True)
