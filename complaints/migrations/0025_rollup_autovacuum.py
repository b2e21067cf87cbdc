"""The rollup tables are rewritten a few days at a time every minute (DELETE, then
INSERT): with PostgreSQL's default thresholds (20 % of the table dead) a table of a few
million rows carries millions of dead rows that every dashboard read walks past.
Vacuumed and analyzed after 1-2 % instead. Nothing to do on SQLite."""

from django.db import migrations

TABLES = (
    "complaints_dailycomplaintstats",
    "complaints_dailydurationbuckets",
    "complaints_rollupmark",
    "complaints_complaintdurations",
)


def tune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(table)} SET "
            "(autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02)"
        )


def untune(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(table)} RESET "
            "(autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)"
        )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0024_fewer_indexes_on_writes")]

    operations = [migrations.RunPython(tune, untune, elidable=True)]
