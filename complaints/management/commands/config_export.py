"""Write the configuration (categories, teams, SLA policies, rules, templates…) as
JSON or YAML, to copy a configured installation: see services/config_transfer.py.

    manage.py config_export > config.json
    manage.py config_export --output config.yaml
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from complaints.services.config_transfer import config_export


class Command(BaseCommand):
    help = "Export the configuration as JSON (default) or YAML (.yaml/.yml output)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="a file; .yaml or .yml writes YAML")

    def handle(self, *args, output=None, **options):
        data = config_export()
        if output and output.lower().endswith((".yaml", ".yml")):
            import yaml

            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        else:
            text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Configuration written to {output}")
        else:
            self.stdout.write(text, ending="")
