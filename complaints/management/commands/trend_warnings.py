"""`manage.py trend_warnings [--week YYYY-MM-DD]`: once, record the products and
categories whose complaints rose above their baseline this week (or the week of the
given day) and tell the owning teams' supervisors. Safe to run from cron while the
Celery task complaints.tasks_analytics.trend_warnings_task runs too.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from complaints.services.trends import trend_warnings_detect, week_of


class Command(BaseCommand):
    help = "Record trend warnings for products and categories, once."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="a day of the week to check (default: this week)")

    def handle(self, *args, **options):
        day = None
        if options["week"]:
            try:
                day = date.fromisoformat(options["week"])
            except ValueError:
                raise CommandError("--week takes a date: YYYY-MM-DD") from None
        warnings = trend_warnings_detect(week_start=day)
        for warning in warnings:
            self.stdout.write(
                f"{warning.week} {warning.kind} {warning.item}: {warning.count} "
                f"(baseline {warning.baseline_mean:.1f} ± {warning.baseline_std:.1f})"
            )
        label = week_of(day).isoformat() if day else "this week"
        self.stdout.write(f"trend_warnings: {len(warnings)} new warning(s) for {label}")
