from django.db import migrations, models

# What the code that read them implied, for versions loaded before lines carried it.
PAIRS = ["ELE", "DAY", "NEL", "OPF", "OPU", "AAE"]
STAFF_GROUPS = {
    "MED": "Medical and dental", "NUR": "Nursing and midwifery",
    "AHP": "Allied health professionals", "STT": "Scientific, therapeutic and technical",
    "SUP": "Support to clinical staff", "INF": "Infrastructure support",
}  # fmt: skip


def meanings_from_codes(apps, schema_editor):
    """Activity pairs A1… ↔ A2… and staff groups F2<group><S|B|A> (pay) with W<group><S|B|A>
    (WTE), as plans/system_plan.py named them before templates said so."""
    Line = apps.get_model("plans", "Line")
    for code in PAIRS:
        Line.objects.filter(code=f"A1{code}", counterparty="commissioner").update(
            balances_with=f"A2{code}"
        )
    for short, name in STAFF_GROUPS.items():
        pay = [f"F2{short}{t}" for t in "SBA"]
        wte = [f"W{short}{t}" for t in "SBA"]
        Line.objects.filter(code__in=pay, unit="gbp000").update(staff_group=name)
        Line.objects.filter(code__in=wte, unit="wte").update(staff_group=name)


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0010_row_security"),
    ]

    operations = [
        migrations.AddField(
            model_name="line",
            name="balances_with",
            field=models.CharField(blank=True, default="", max_length=20),
        ),
        migrations.AddField(
            model_name="line",
            name="staff_group",
            field=models.CharField(blank=True, default="", max_length=80),
        ),
        migrations.RunPython(meanings_from_codes, migrations.RunPython.noop),
    ]
