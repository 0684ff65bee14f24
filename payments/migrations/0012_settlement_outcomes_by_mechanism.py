"""Each outcome-linked mechanism has its own answer to whether its outcome measures were met.
Settlements entered before, with one answer for all, get that answer for each mechanism
linked to outcomes (an all-or-nothing payment; a blended payment with an outcome element)
and none for the rest: the same figures as before."""

from decimal import Decimal, InvalidOperation

from django.db import migrations, models


def _linked(mechanism: dict) -> bool:
    kind = mechanism.get("kind")
    if kind == "all_or_nothing":
        return True
    if kind != "blended":
        return False
    try:
        # As the rules read it: typed, with any thousands separators.
        typed = str((mechanism.get("params") or {}).get("outcome_amount") or 0)
        return Decimal(typed.strip().replace(",", "") or 0) != 0
    except InvalidOperation:
        return False


def answer_each(apps, schema_editor):
    Settlement = apps.get_model("payments", "Settlement")
    for settlement in Settlement.objects.select_related("version").filter(outcomes=[]):
        settlement.outcomes = [
            settlement.outcomes_met if _linked(m) else None
            for m in settlement.version.mechanisms or []
        ]
        settlement.save(update_fields=["outcomes"])


class Migration(migrations.Migration):
    dependencies = [("payments", "0011_all_or_nothing_payer")]

    operations = [
        migrations.AddField(
            model_name="settlement",
            name="outcomes",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(answer_each, migrations.RunPython.noop),
    ]
