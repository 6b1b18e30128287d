"""Seed the Vietnamese default message templates (edited ones are never overwritten)."""

from django.db import migrations


def seed(apps, schema_editor):
    from motcua.integrations.messaging import defaults

    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    for row in defaults.rows():
        MessageTemplate.objects.get_or_create(
            event=row["event"], channel=row["channel"], defaults={"subject": row["subject"], "body": row["body"]}
        )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
