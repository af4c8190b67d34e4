from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Log-in throttling and django-q2's stats keep their data in the cache, which is the
    # database by default: its table must exist as soon as `migrate` has run. Idempotent,
    # and nothing to do when the cache is Redis.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
