"""`manage.py collaboration_sweep`: once, mark overdue collaboration requests (and
escalate them to the department's supervisor), then climb the escalations whose
climb time passed. Safe to run from cron while the Celery tasks
complaints.tasks_escalation.collaboration_sweep_task / escalations_climb_task run too.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints.services.collaboration import collaboration_sweep
from complaints.services.escalation import escalations_climb


class Command(BaseCommand):
    help = "Escalate overdue collaboration requests and climb due escalations, once."

    def handle(self, *args, **options):
        now = timezone.now()
        overdue = collaboration_sweep(now=now)
        climbed = escalations_climb(now=now)
        self.stdout.write(
            f"collaboration_sweep: {overdue} request(s) marked overdue, "
            f"{climbed} escalation(s) climbed"
        )
