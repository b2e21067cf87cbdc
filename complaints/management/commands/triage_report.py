"""`manage.py triage_report`: how often agents kept what each keyword rule proposed."""

from __future__ import annotations

import json
import unicodedata

from django.core.management.base import BaseCommand

from complaints.services.triage import triage_accuracy, triage_accuracy_overall


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


class Command(BaseCommand):
    help = "Triage accuracy per keyword rule: proposals, and the share of categories and priorities kept."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args, **options):
        rows = triage_accuracy()
        overall = triage_accuracy_overall()
        if options["json"]:
            data = {
                "rules": [
                    {
                        "id": row["rule"].pk,
                        "name": row["rule"].name,
                        "active": row["rule"].is_active,
                        **{k: v for k, v in row.items() if k != "rule"},
                    }
                    for row in rows
                ],
                "overall": overall,
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        header = ("rule", "proposals", "category kept", "(of)", "priority kept", "(of)")
        table = [header]
        for row in rows:
            rule = row["rule"]
            name = rule.name if rule.is_active else f"{rule.name} (inactive)"
            table.append(
                (
                    name,
                    str(row["proposals"]),
                    _pct(row["category_kept"]),
                    "" if row["category_decided"] is None else str(row["category_decided"]),
                    _pct(row["priority_kept"]),
                    "" if row["priority_decided"] is None else str(row["priority_decided"]),
                )
            )
        table.append(
            (
                "all proposals",
                str(overall["proposals"]),
                _pct(overall["category_kept"]),
                str(overall["category_decided"]),
                _pct(overall["priority_kept"]),
                str(overall["priority_decided"]),
            )
        )
        widths = [max(_width(r[i]) for r in table) for i in range(len(header))]
        for line in table:
            cells = [
                cell + " " * (widths[i] - _width(cell)) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(line)
            ]
            self.stdout.write("  ".join(cells).rstrip())


def _width(text: str) -> int:
    """Display width: Chinese characters take two columns in a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
