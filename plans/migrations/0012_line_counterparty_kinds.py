from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0011_line_pairs_and_staff_groups"),
    ]

    operations = [
        migrations.AddField(
            model_name="line",
            name="counterparty_kinds",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
