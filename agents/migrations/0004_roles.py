"""The two roles of the review workflow, as groups an admin puts people in.

Authors create agents and edit their own (or those they maintain); Reviewers approve or send back
submissions. The model permissions below let each group use the admin; which agent a person may
change is decided per agent by agents.permissions.
"""

from django.db import migrations

ROLES = {
    "Authors": [
        "add_agent", "change_agent", "view_agent",
        "add_agenttool", "change_agenttool", "delete_agenttool", "view_agenttool",
        "add_section", "change_section", "delete_section", "view_section",
        "add_instructionstep", "change_instructionstep", "delete_instructionstep",
        "view_instructionstep",
        "view_tool", "view_revision", "view_event",
    ],
    "Reviewers": [
        "view_agent", "view_agenttool", "view_section", "view_instructionstep",
        "view_tool", "view_revision", "view_event",
    ],
}  # fmt: skip


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; this migration needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    assign_roles(apps)


def assign_roles(apps):
    """The groups and their permissions (idempotent; tests call it after a flush)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="agents", codename__in=codenames)
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0003_workflow"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
