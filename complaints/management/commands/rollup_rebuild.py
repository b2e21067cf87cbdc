"""Rebuild the dashboard's daily rollup from the complaints (after a bulk load, an
import, or by the bench): `manage.py rollup_rebuild [--since YYYY-MM-DD]`."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from complaints.analytics.rollup import rollup_rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard's daily rollup (every day, or from --since)."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first local day to recompute (YYYY-MM-DD)")

    def handle(self, *args, since=None, **options):
        try:
            first = date.fromisoformat(since) if since else None
        except ValueError:
            raise CommandError("--since must be a date: YYYY-MM-DD") from None
        started = time.perf_counter()
        days = rollup_rebuild(since=first)
        took = time.perf_counter() - started
        self.stdout.write(f"Rollup rebuilt: {days} days in {took:.1f} s.")
