"""Import complaints and customers from a CSV or XLSX file, from the command line.

    manage.py import_complaints complaints.xlsx --dry-run
    manage.py import_complaints complaints.xlsx --mapping '{"标题": "title", "电话": "phone"}'

Without --mapping the columns are guessed from their names (shown first). The same
services as the import screens do the work; a progress bar goes to stderr.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.base import File
from django.core.management.base import BaseCommand, CommandError

from complaints.errors import ServiceError
from complaints.services import imports


class _Bar:
    def __init__(self, stream, total: int, label: str):
        self.stream, self.total, self.label = stream, max(total, 1), label
        self.started = time.monotonic()

    def __call__(self, done: int) -> None:
        elapsed = time.monotonic() - self.started
        if self.total <= 1:
            self.stream.write(f"\r{self.label} {done} rows, {elapsed:.1f}s", ending="")
            self.stream.flush()
            return
        width = 30
        filled = min(width, width * done // self.total)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
            f"{done}/{self.total} rows, {elapsed:.1f}s",
            ending="",
        )
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("")


class Command(BaseCommand):
    help = "Import complaints and their customers from a CSV or XLSX spreadsheet."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument(
            "--mapping",
            help='JSON {"column header": "field"}; fields: ' + ", ".join(imports.FIELDS),
        )
        parser.add_argument(
            "--source", default="", help="name of the source system (scopes its ids)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument("--user", help="user name recorded as the importer")

    def handle(self, *args, file: str, mapping, source, dry_run, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No such user: {user}")
        try:
            with path.open("rb") as handle:
                job = imports.import_job_create(file=File(handle), name=path.name, actor=actor)
            if mapping:
                try:
                    chosen = json.loads(mapping)
                except json.JSONDecodeError as exc:
                    raise CommandError(f"--mapping is not JSON: {exc}") from exc
            else:
                chosen = dict(job.mapping)
                for header, target in chosen.items():
                    self.stderr.write(f"  {header} → {target}")
            if source:
                chosen["_source"] = source
            job = imports.import_mapping_set(job=job, mapping=chosen, actor=actor)
            bar = _Bar(self.stderr, 0, "checking ")
            job = imports.import_check(job=job, progress=bar)
            bar.end()
            self._report(job, dry_run=True)
            if dry_run:
                return
            job = imports.import_start(job=job, actor=actor)
            bar = _Bar(self.stderr, job.total_rows, "importing")
            job = imports.import_run(job=job, actor=actor, progress=bar)
            bar.end()
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self._report(job, dry_run=False)

    def _report(self, job, *, dry_run: bool) -> None:
        for error in job.errors[:50]:
            self.stdout.write(f"row {error['row']}: {error['column']}: {error['message']}")
        if job.error_count > 50:
            self.stdout.write(f"… and more: {job.error_count} rows with errors in all.")
        verb = "would be created" if dry_run else "created"
        self.stdout.write(
            f"{job.total_rows} rows: {job.created_count} {verb}, "
            f"{job.skipped_count} already imported, {job.error_count} with errors "
            f"(import #{job.pk})."
        )
