"""`manage.py callbacks_due`: once, open the call-backs (回访) of resolved complaints
whose survey is still unanswered after COMPLAINT_CALLBACK_AFTER_DAYS. Safe to run from
cron while the Celery task complaints.tasks_loop.callbacks_due_task runs too: a
complaint's round gets one call-back.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from complaints.services.callbacks import callbacks_due_sweep


class Command(BaseCommand):
    help = "Open the call-backs that are due (survey unanswered), once."

    def handle(self, *args, **options):
        opened = callbacks_due_sweep()
        self.stdout.write(f"callbacks_due: {opened} call-back(s) opened")
