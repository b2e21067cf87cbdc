"""Role permissions for the models added since 0010 (the same rule as 0010)."""

from importlib import import_module

from django.db import migrations

grant = import_module("complaints.migrations.0010_grant_role_permissions").forwards


class Migration(migrations.Migration):
    dependencies = [("complaints", "0012_survey")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
