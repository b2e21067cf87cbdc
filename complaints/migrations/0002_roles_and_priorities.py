"""Create the role groups, their model permissions, and the P1–P4 priority grades."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ["Agent", "Supervisor", "Department responder", "Admin"]

PRIORITIES = [
    ("P1", 1, "紧急 Critical", "#b42318"),
    ("P2", 2, "高 High", "#dd6b20"),
    ("P3", 3, "中 Normal", "#0b69a3"),
    ("P4", 4, "低 Low", "#616e7c"),
]

# The explicit logs and history are never edited or deleted, even by admins.
READ_ONLY_MODELS = {"statuschange", "complaintevent"}


def forwards(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so the
    # groups can be given theirs in this migration.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}

    ours = Permission.objects.filter(content_type__app_label="complaints")
    admin_perms = [
        p
        for p in ours
        if not (p.content_type.model in READ_ONLY_MODELS and not p.codename.startswith("view_"))
        and not p.content_type.model.startswith("historical")
        and p.codename != "delete_complaint"
    ]
    admin_perms += list(
        Permission.objects.filter(content_type__app_label="auth", content_type__model="group")
    )
    groups["Admin"].permissions.add(*admin_perms)
    groups["Supervisor"].permissions.add(*[p for p in ours if p.codename.startswith("view_")])

    Priority = apps.get_model("complaints", "Priority")
    for code, level, name, color in PRIORITIES:
        Priority.objects.get_or_create(
            code=code, defaults={"level": level, "name": name, "color": color}
        )


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
