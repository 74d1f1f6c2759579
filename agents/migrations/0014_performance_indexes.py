"""Indexes for 10,000 agents (issue 11), and each agent's latest submission on its row.

- ``Agent.submission`` / ``submitted_at``: written by the workflow's submit step, so the review
  queue reads who submitted and when from the agent's row (ordered by ``agents_agent_queue``)
  instead of a subquery per agent into the audit trail. Filled here for agents already
  submitted.
- ``AgentTool.name``: the tool filters (``name = 'Bash' OR name LIKE 'Bash(%'``); on PostgreSQL
  Django adds a ``varchar_pattern_ops`` index for the LIKE.
- ``Event(agent, action, created_at)``: an agent's latest event of a kind (its last submission,
  its last review) is one index probe.
- The admin's search (``name`` or ``description`` contains a word, ``UPPER(col::text) LIKE
  UPPER('%word%')``): on PostgreSQL a trigram GIN index on each of those expressions (pg_trgm);
  other databases match without an index.

``Agent.status`` has no index of its own: ``agents_agent_listing`` (status, published_revision)
leads with it and serves every filter on the status alone.
"""

import django.db.models.deletion
from django.db import migrations, models

TRIGRAM_INDEXES = {
    "agents_agent_name_trgm": "name",
    "agents_agent_description_trgm": "description",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, column in TRIGRAM_INDEXES.items():
        # The expression Django's icontains writes, so that the planner matches it.
        schema_editor.execute(
            f"CREATE INDEX {index} ON agents_agent USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


def fill_submissions(apps, schema_editor):
    Agent = apps.get_model("agents", "Agent")
    Event = apps.get_model("agents", "Event")
    latest = Event.objects.filter(agent=models.OuterRef("pk"), action="submit").order_by(
        "-created_at", "-pk"
    )
    Agent.objects.filter(models.Exists(latest)).update(
        submission=models.Subquery(latest.values("pk")[:1]),
        submitted_at=models.Subquery(latest.values("created_at")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0013_agent_path"),
    ]

    operations = [
        migrations.AddField(
            model_name="agent",
            name="submission",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                help_text="The latest submission for review: who, when and the change note.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agents.event",
            ),
        ),
        migrations.AddField(
            model_name="agent",
            name="submitted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="agenttool",
            name="name",
            field=models.CharField(
                db_index=True,
                help_text="A built-in tool, an MCP tool (mcp__server__tool) or Agent(a, b).",
                max_length=300,
            ),
        ),
        migrations.AddIndex(
            model_name="agent",
            index=models.Index(fields=["status", "submitted_at"], name="agents_agent_queue"),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                fields=["agent", "action", "created_at"], name="agents_event_agent_action"
            ),
        ),
        migrations.RunPython(fill_submissions, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
