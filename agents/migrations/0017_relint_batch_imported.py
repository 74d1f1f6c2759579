"""Lint's columns filled in for revisions that have no findings stored: the agents a batch import
created had their first revision written without them (``workflow.record_new_agents``, fixed).
A revision of a file lint has nothing to say about is linted again, harmlessly."""

from __future__ import annotations

from django.db import migrations


def relint_empty(apps, schema_editor) -> None:
    from agents.lint import report

    Revision = apps.get_model("agents", "Revision")
    Tool = apps.get_model("agents", "Tool")
    registry = dict(Tool.objects.values_list("name", "replaced_by__name"))
    unlinted = Revision.objects.filter(lint_findings=[]).values_list("pk", "text")
    for pk, text in unlinted.iterator(chunk_size=500):
        record = report.lint_record(text, registry)
        if record["lint_findings"]:
            # An UPDATE of the lint columns alone: revisions are otherwise immutable.
            Revision.objects.filter(pk=pk).update(**record)


class Migration(migrations.Migration):
    dependencies = [("agents", "0016_cache_table")]

    operations = [migrations.RunPython(relint_empty, migrations.RunPython.noop)]
