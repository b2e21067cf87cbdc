"""`manage.py sla_sweep`: one pass of the SLA sweep (the same work runs every minute as
the Celery task complaints.tasks_sla.sla_sweep_task), printing what it recorded.

Safe to run from cron alongside the scheduled task: each crossing is recorded and
escalated once.
"""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from complaints.services.sweep import sla_sweep


class Command(BaseCommand):
    help = "Record SLA warnings and breaches once, and escalate the breaches (one pass)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="sweep as of this ISO time instead of the current time (e.g. for a replay)",
        )

    def handle(self, *args, **options):
        now = None
        if options["now"]:
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(f"--now: {exc}") from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        result = sla_sweep(now=now)
        self.stdout.write(f"sla_sweep: {result.summary()}")
