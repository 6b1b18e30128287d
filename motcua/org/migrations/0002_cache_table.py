"""The database cache's table (settings.CACHES, the default backend): made wherever `migrate` runs.

`createcachetable` does nothing for a cache that is not in the database or whose table exists.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False)]
