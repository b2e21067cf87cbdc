"""The rollup's grains (issue 7/9: the dashboard on a million complaints).

- DailyComplaintStats gets a `grain`: the full slice and coarser ones summed from it;
- DailyDurationBuckets keeps the team only (finer histograms were about one row per
  complaint);
- ComplaintDurations copies the complaint's moments and dimensions, with covering
  indexes, for the percentiles the histograms no longer answer.

The rollup's rows are emptied and its `as_of` cleared: the next refresh (the
periodic task, within a minute) or `manage.py rollup_rebuild` rebuilds it at the
new grains — a few minutes on a million complaints, the dashboard showing zeros
meanwhile. The durations get their copies from the complaints here.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def empty_rollup(apps, schema_editor):
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        for name in ("DailyComplaintStats", "DailyDurationBuckets"):
            table = apps.get_model("complaints", name)._meta.db_table
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 (a model's table)
    apps.get_model("complaints", "RollupState").objects.update(as_of=None)


def copy_complaint_fields(apps, schema_editor):
    """One UPDATE … FROM (PostgreSQL, and SQLite since 3.33)."""
    quote = schema_editor.quote_name
    durations = quote(apps.get_model("complaints", "ComplaintDurations")._meta.db_table)
    complaints = quote(apps.get_model("complaints", "Complaint")._meta.db_table)
    columns = (
        "first_response_at",
        "resolved_at",
        "team_id",
        "category_id",
        "product_id",
        "channel",
        "assignee_id",
    )
    assignments = ", ".join(f"{quote(c)} = c.{quote(c)}" for c in columns)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {durations} SET {assignments} FROM {complaints} c "  # noqa: S608
            f"WHERE c.{quote('id')} = {durations}.{quote('complaint_id')}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0021_open_queue_indexes"),
    ]

    operations = [
        migrations.RunPython(empty_rollup, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(
            model_name="dailycomplaintstats",
            name="daily_stats_day_team",
        ),
        migrations.RemoveIndex(
            model_name="dailycomplaintstats",
            name="daily_stats_open",
        ),
        migrations.RemoveField(
            model_name="dailydurationbuckets",
            name="assignee",
        ),
        migrations.RemoveField(
            model_name="dailydurationbuckets",
            name="category",
        ),
        migrations.RemoveField(
            model_name="dailydurationbuckets",
            name="channel",
        ),
        migrations.RemoveField(
            model_name="dailydurationbuckets",
            name="product",
        ),
        migrations.AddField(
            model_name="complaintdurations",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="assignee",
            ),
        ),
        migrations.AddField(
            model_name="complaintdurations",
            name="category",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="complaints.category",
                verbose_name="category",
            ),
        ),
        migrations.AddField(
            model_name="complaintdurations",
            name="channel",
            field=models.CharField(blank=True, max_length=20, verbose_name="channel"),
        ),
        migrations.AddField(
            model_name="complaintdurations",
            name="first_response_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="first response"),
        ),
        migrations.AddField(
            model_name="complaintdurations",
            name="product",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="complaints.product",
                verbose_name="product",
            ),
        ),
        migrations.AddField(
            model_name="complaintdurations",
            name="resolved_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="resolved"),
        ),
        migrations.AddField(
            model_name="complaintdurations",
            name="team",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="complaints.team",
                verbose_name="team",
            ),
        ),
        migrations.AddField(
            model_name="dailycomplaintstats",
            name="grain",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (0, "Full"),
                    (1, "Slice"),
                    (2, "Product"),
                    (3, "Agent"),
                    (4, "Team"),
                    (5, "Product Slice"),
                ],
                default=0,
            ),
        ),
        migrations.AlterField(
            model_name="dailycomplaintstats",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="assignee",
            ),
        ),
        migrations.AlterField(
            model_name="dailycomplaintstats",
            name="category",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="complaints.category",
                verbose_name="category",
            ),
        ),
        migrations.AlterField(
            model_name="dailycomplaintstats",
            name="product",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="complaints.product",
                verbose_name="product",
            ),
        ),
        migrations.AlterField(
            model_name="dailycomplaintstats",
            name="team",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="complaints.team",
                verbose_name="team",
            ),
        ),
        migrations.AlterField(
            model_name="dailydurationbuckets",
            name="team",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="complaints.team",
                verbose_name="team",
            ),
        ),
        migrations.RunPython(copy_complaint_fields, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="complaintdurations",
            index=models.Index(
                condition=models.Q(("first_response_minutes__isnull", False)),
                fields=[
                    "first_response_at",
                    "team",
                    "category",
                    "product",
                    "channel",
                    "assignee",
                    "first_response_minutes",
                ],
                name="durations_answered",
            ),
        ),
        migrations.AddIndex(
            model_name="complaintdurations",
            index=models.Index(
                condition=models.Q(("resolution_minutes__isnull", False)),
                fields=[
                    "resolved_at",
                    "team",
                    "category",
                    "product",
                    "channel",
                    "assignee",
                    "resolution_minutes",
                ],
                name="durations_resolved",
            ),
        ),
        migrations.AddIndex(
            model_name="dailycomplaintstats",
            index=models.Index(
                fields=["grain", "day", "team", "category", "product", "channel"],
                name="daily_stats_day",
            ),
        ),
        migrations.AddIndex(
            model_name="dailycomplaintstats",
            index=models.Index(fields=["grain", "assignee", "day"], name="daily_stats_assignee"),
        ),
        migrations.AddIndex(
            model_name="dailycomplaintstats",
            index=models.Index(
                condition=models.Q(
                    ("open_total__gt", 0), ("escalations_open__gt", 0), _connector="OR"
                ),
                fields=["grain", "team", "category", "product", "channel", "day"],
                name="daily_stats_open",
            ),
        ),
        migrations.AddIndex(
            model_name="dailycomplaintstats",
            index=models.Index(
                condition=models.Q(
                    ("open_total__gt", 0), ("escalations_open__gt", 0), _connector="OR"
                ),
                fields=["grain", "assignee", "day"],
                name="daily_stats_open_assignee",
            ),
        ),
    ]
