"""`manage.py customer_export <customer id> --by <username> [-o file.zip]`: everything
held about one person (the customer and the records merged into it) as a ZIP of JSON
files, attachment files and raw mail. Logged in the access log and on the timelines."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from complaints.models import Customer
from complaints.services.privacy import customer_export


def actor_from(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user {username!r}") from None


class Command(BaseCommand):
    help = "Export everything held about one customer as a ZIP (data access request)."

    def add_arguments(self, parser):
        parser.add_argument("customer", type=int, help="the customer's id")
        parser.add_argument("--by", required=True, help="username of who asked (logged)")
        parser.add_argument("-o", "--output", help="file to write (default customer-<id>.zip)")

    def handle(self, *args, **options):
        actor = actor_from(options["by"])
        try:
            customer = Customer.objects.get(pk=options["customer"])
        except Customer.DoesNotExist:
            raise CommandError(f"no customer {options['customer']}") from None
        path = options["output"] or f"customer-{customer.pk}.zip"
        with open(path, "wb") as out:
            counts = customer_export(customer=customer, actor=actor, out=out)
        summary = ", ".join(f"{k}={v}" for k, v in counts.items())
        self.stdout.write(f"customer_export: wrote {path} ({summary})")
