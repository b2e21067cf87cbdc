"""Give the Admin and Supervisor roles their permissions on the models added since
0002 (and keep them complete): admins configure, supervisors read. Logs and
records written by the services are view-only for everyone."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Written only by services: nobody edits or deletes them in the admin.
READ_ONLY_MODELS = {
    "statuschange",
    "complaintevent",
    "escalation",
    "collaborationrequest",
    "slacrossing",
    "triageproposal",
    "outboxmessage",
    "mailthread",
    "idempotencykey",
    "duplicateflag",
    "presence",
    "notification",
    "inboundmessage",
    "attachment",
    "savedfilter",
    "surveyresponse",
}


def forwards(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = list(
        Permission.objects.filter(content_type__app_label="complaints").select_related(
            "content_type"
        )
    )
    admin_perms = [
        p
        for p in ours
        if not p.content_type.model.startswith("historical")
        and (p.codename.startswith("view_") or p.content_type.model not in READ_ONLY_MODELS)
        and p.codename != "delete_complaint"
    ]
    view_perms = [
        p
        for p in ours
        if p.codename.startswith("view_") and not p.content_type.model.startswith("historical")
    ]
    admin, _ = Group.objects.get_or_create(name="Admin")
    supervisor, _ = Group.objects.get_or_create(name="Supervisor")
    admin.permissions.add(*admin_perms)
    supervisor.permissions.add(*view_perms)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0009_sla_label"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
