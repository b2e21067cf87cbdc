"""Role permissions for the models added in 0014: admins configure authority limits,
SOPs and reply templates; remedies, SOP checks, call-backs and improvement actions
are written through the screens' services, so the admin only views them."""

from importlib import import_module

from django.db import migrations

grant = import_module("complaints.migrations.0010_grant_role_permissions").forwards

WRITTEN_BY_SERVICES = {
    "remedy",
    "sopcheck",
    "callbacktask",
    "callbackattempt",
    "improvementaction",
}


def forwards(apps, schema_editor):
    grant(apps, schema_editor)  # creates the permissions, grants the configuration ones
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    writes = Permission.objects.filter(
        content_type__app_label="complaints", content_type__model__in=WRITTEN_BY_SERVICES
    ).exclude(codename__startswith="view_")
    for group in Group.objects.filter(name__in=["Admin", "Supervisor"]):
        group.permissions.remove(*writes)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0014_closing_the_loop")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
