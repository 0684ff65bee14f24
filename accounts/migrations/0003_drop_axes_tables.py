"""The sign-in throttle (accounts/throttle.py) took over from django-axes, whose tables (and
the content types and permissions Django made for them) were left behind: removed here.
Nothing to undo: going back to axes, its own migrations make its tables again."""

from django.db import migrations

AXES_TABLES = [
    "axes_accessattemptexpiration",
    "axes_accessfailurelog",
    "axes_accesslog",
    "axes_accessattempt",
]


def forget_axes(apps, schema_editor):
    # The historical models cascade to permissions and to the people and groups holding them.
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="axes").delete()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'axes'")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_more_places"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL(
            [f"DROP TABLE IF EXISTS {table} CASCADE" for table in AXES_TABLES],
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunPython(forget_axes, migrations.RunPython.noop),
    ]
