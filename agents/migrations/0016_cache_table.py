"""The cache table of the default CACHES (DatabaseCache): the API's throttles count in it, shared
by every app server. A no-op when CACHE_URL names another cache."""

from __future__ import annotations

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor) -> None:
    # createcachetable creates only the DatabaseCache tables of the current settings, and is a
    # no-op when the table exists.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("agents", "0015_revision_lint")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
