"""Full-text search over revisions (the catalog's ``?q=``), on PostgreSQL: a GIN index on the
same expression the catalog searches (``views.catalog.search_document``). Other databases
search with a plain match and get no index."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = "agents_revision_search"


def index() -> GinIndex:
    # Frozen here as it was when the index was built; tests/test_catalog.py checks that the
    # catalog's search still reads it.
    return GinIndex(SearchVector("name", "description", "text", config="english"), name=INDEX)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("agents", "Revision"), index())


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("agents", "Revision"), index())


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0010_agent_slug"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
