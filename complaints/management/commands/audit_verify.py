"""`manage.py audit_verify [--backfill] [--heads]`: recompute every complaint's chain
of status-change hashes and report where one breaks (exit code 1), see
complaints/services/audit.py.

--backfill first seals rows written before the chain existed (empty hash); rows
already sealed are never rehashed. --heads prints each complaint's newest hash: keep
that output where the database's writers cannot change it, and compare later.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from complaints.services import audit


class Command(BaseCommand):
    help = "Verify the tamper-evident chains of status changes (exit 1 when one is broken)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--backfill", action="store_true", help="seal rows that have no hash yet first"
        )
        parser.add_argument("--heads", action="store_true", help="print every chain's head hash")

    def handle(self, *args, **options):
        if options["backfill"]:
            sealed = audit.chains_backfill()
            self.stdout.write(f"audit_verify: sealed {sealed} status change(s) without a hash")
        broken = 0
        checked = 0
        for report in audit.chains_verify():
            checked += 1
            if options["heads"]:
                self.stdout.write(f"{report.complaint_id} {report.head}")
            if not report.ok:
                broken += 1
                for problem in report.problems:
                    self.stderr.write(f"complaint {report.complaint_id}: {problem}")
        self.stdout.write(f"audit_verify: {checked} complaint(s) checked, {broken} broken")
        if broken:
            sys.exit(1)
