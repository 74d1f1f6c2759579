"""Full-text search over revisions (the catalog's ``?q=``) on PostgreSQL: each revision's name,
description and text as a stored ``tsvector`` (``RevisionSearch``), written by a trigger on every
revision insert, with a GIN index.

Stored rather than an index on the expression ``to_tsvector(text)``: when a word is common,
PostgreSQL prefers a sequential scan and would then parse every revision's text again for each
search (34 s for "code" among 10,000 agents; bench/pages.py). The catalog asks through
``agents_revisions_matching(query)``, which always reads the index. Other databases create the
empty table and nothing else: they search the revisions' text with a plain match.

Also an index for what lists filter on (state, published), so they count from the index.
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

DOCUMENT = (
    "to_tsvector('english'::regconfig, coalesce({row}.name, '') || ' ' || "
    "coalesce({row}.description, '') || ' ' || coalesce({row}.text, ''))"
)

CREATE = [
    f"""CREATE FUNCTION agents_revision_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO agents_revisionsearch (revision_id, document)
        VALUES (NEW.id, {DOCUMENT.format(row="NEW")})
        ON CONFLICT (revision_id) DO UPDATE SET document = EXCLUDED.document;
        RETURN NULL;
    END
    $$""",  # noqa: S608 (constant SQL)
    """CREATE TRIGGER agents_revision_search AFTER INSERT OR UPDATE OF name, description, text
    ON agents_revision FOR EACH ROW EXECUTE FUNCTION agents_revision_search_document()""",
    f"""INSERT INTO agents_revisionsearch (revision_id, document)
    SELECT r.id, {DOCUMENT.format(row="r")} FROM agents_revision r""",  # noqa: S608
    "CREATE INDEX agents_revisionsearch_document ON agents_revisionsearch USING gin (document)",
    # What the catalog asks: the revisions matching a query, always through the index. For a
    # common word the planner prefers reading the table, not counting that each document is
    # then fetched from TOAST storage (35,000 pages for 10,935 revisions): ten times slower.
    """CREATE FUNCTION agents_revisions_matching(query tsquery) RETURNS SETOF bigint
    LANGUAGE sql STABLE SET enable_seqscan = off
    AS $$ SELECT revision_id FROM agents_revisionsearch WHERE document @@ query $$""",
]

DROP = [
    "DROP FUNCTION IF EXISTS agents_revisions_matching(tsquery)",
    "DROP INDEX IF EXISTS agents_revisionsearch_document",
    "DROP TRIGGER IF EXISTS agents_revision_search ON agents_revision",
    "DROP FUNCTION IF EXISTS agents_revision_search_document()",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0011_collections_tokens"),
    ]

    operations = [
        migrations.CreateModel(
            name="RevisionSearch",
            fields=[
                (
                    "revision",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="agents.revision",
                    ),
                ),
                ("document", django.contrib.postgres.search.SearchVectorField()),
            ],
        ),
        migrations.RunPython(create, drop),
        migrations.AddIndex(
            model_name="agent",
            index=models.Index(
                fields=["status", "published_revision"], name="agents_agent_listing"
            ),
        ),
    ]
