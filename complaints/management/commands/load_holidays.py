"""`manage.py load_holidays --calendar NAME --country CN --year 2026`: add a year's
official public holidays and make-up working days (调休) to a business calendar.

Running it again changes nothing that is already right; days entered by hand that the
official schedule does not mention stay.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from complaints.errors import ServiceError
from complaints.models import BusinessCalendar
from complaints.services.calendars import calendar_load_holidays


class Command(BaseCommand):
    help = "Load a year's official holidays and make-up working days into a business calendar."

    def add_arguments(self, parser):
        parser.add_argument("--calendar", required=True, help="the business calendar's name")
        parser.add_argument("--country", default="CN", help="ISO country code (default CN)")
        parser.add_argument(
            "--year", type=int, required=True, action="append", help="the year (repeat for several)"
        )
        parser.add_argument(
            "--language", help="language of the holiday names (default: the country's own)"
        )

    def handle(self, *args, **options):
        calendar = BusinessCalendar.objects.filter(name=options["calendar"]).first()
        if calendar is None:
            names = ", ".join(BusinessCalendar.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No business calendar named {options['calendar']!r} ({names}).")
        for year in options["year"]:
            try:
                load = calendar_load_holidays(
                    calendar=calendar,
                    country=options["country"],
                    year=year,
                    language=options["language"],
                )
            except ServiceError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{calendar.name} {options['country'].upper()} {year}: "
                f"{load.holidays} holidays, {load.workdays} make-up working days "
                f"({load.created} added, {load.updated} updated, {load.unchanged} unchanged)"
            )
