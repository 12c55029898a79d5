"""Staff groups: coordinator, translator, manager — the permission matrix in one place."""

from django.db import migrations

COORDINATOR = [
    "view_case",
    "change_case",
    "view_record",
    "add_record",
    "change_record",
    "view_internalnote",
    "add_internalnote",
    "view_summarysection",
    "add_summarysection",
    "change_summarysection",
    "translate_summarysection",
    "view_casedirection",
    "add_casedirection",
    "change_casedirection",
    "view_medicaldirection",
    "view_caseoutcome",
    "add_caseoutcome",
    "change_caseoutcome",
    "view_recordrequest",
    "add_recordrequest",
    "view_auditevent",
    "view_notification",
    "view_consent",
    "view_membership",
    "view_caseevent",
    "view_invitation",
]
TRANSLATOR = ["view_summarysection", "translate_summarysection", "view_medicaldirection"]
MANAGER = COORDINATOR + [
    "reassign_case",
    "export_case",
    "add_medicaldirection",
    "change_medicaldirection",
]
GROUPS = {"coordinator": COORDINATOR, "translator": TRANSLATOR, "manager": MANAGER}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="cases", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"permissions not found: {sorted(missing)}")
        group.permissions.set(permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_seed_medical_directions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
