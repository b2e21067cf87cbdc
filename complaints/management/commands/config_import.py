"""Create or update the configuration from a file written by config_export (JSON or
YAML). Idempotent: rows are matched by code or name; a second run changes nothing.

    manage.py config_import config.json --dry-run
"""

import json
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from complaints.errors import ServiceError
from complaints.services.config_transfer import config_import


class Command(BaseCommand):
    help = "Import a configuration exported by config_export (JSON or YAML)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="validate, write nothing")

    def handle(self, *args, file: str, dry_run: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        text = path.read_text(encoding="utf-8-sig")
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise CommandError(f"{file} cannot be read: {exc}") from exc
        try:
            counts = config_import(data=data, dry_run=dry_run)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        for section, c in counts.items():
            self.stdout.write(
                f"{section}: {c['created']} created, {c['updated']} updated, "
                f"{c['unchanged']} unchanged"
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
