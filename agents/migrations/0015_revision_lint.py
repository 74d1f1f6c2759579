"""What lint says about each revision, stored with it (counts and findings), so that pages and the
catalog never lint again; filled in for the revisions that exist."""

from django.db import migrations, models


def lint_revisions(apps, schema_editor):
    from agents.lint import report

    Revision = apps.get_model("agents", "Revision")
    Tool = apps.get_model("agents", "Tool")
    registry = dict(Tool.objects.values_list("name", "replaced_by__name"))
    batch = []
    # Revisions are immutable for the application (Revision.save refuses); the historical model
    # has no such save, and bulk_update writes only the new columns.
    for revision in Revision.objects.only("pk", "text").iterator(chunk_size=500):
        for field, value in report.lint_record(revision.text, registry).items():
            setattr(revision, field, value)
        batch.append(revision)
        if len(batch) == 500:
            Revision.objects.bulk_update(batch, ["lint_errors", "lint_warnings", "lint_findings"])
            batch = []
    if batch:
        Revision.objects.bulk_update(batch, ["lint_errors", "lint_warnings", "lint_findings"])


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0014_performance_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="revision",
            name="lint_errors",
            field=models.PositiveIntegerField(
                default=0, help_text="Lint errors in this file: approving it is refused while any."
            ),
        ),
        migrations.AddField(
            model_name="revision",
            name="lint_warnings",
            field=models.PositiveIntegerField(default=0, help_text="Lint warnings in this file."),
        ),
        migrations.AddField(
            model_name="revision",
            name="lint_findings",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Every lint finding (rule, severity, message, line, field), notes "
                "included.",
            ),
        ),
        migrations.RunPython(lint_revisions, migrations.RunPython.noop),
    ]
