"""`manage.py customer_erase <customer id> --by <username> --yes`: anonymise one
person across complaints, history, raw mail, the outbox and attachments, keeping the
complaint statistics. Idempotent; logged in the access log and on the timelines."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from complaints.management.commands.customer_export import actor_from
from complaints.models import Customer
from complaints.services.privacy import customer_erase


class Command(BaseCommand):
    help = "Erase (anonymise) one customer's personal data. Cannot be undone."

    def add_arguments(self, parser):
        parser.add_argument("customer", type=int, help="the customer's id")
        parser.add_argument("--by", required=True, help="username of who asked (logged)")
        parser.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")

    def handle(self, *args, **options):
        if not options["yes"]:
            raise CommandError("erasure cannot be undone: add --yes to confirm")
        actor = actor_from(options["by"])
        try:
            customer = Customer.objects.get(pk=options["customer"])
        except Customer.DoesNotExist:
            raise CommandError(f"no customer {options['customer']}") from None
        result = customer_erase(customer=customer, actor=actor)
        if result.already_erased:
            self.stdout.write(f"customer_erase: customer {customer.pk} was already erased")
            return
        summary = ", ".join(f"{k}={v}" for k, v in result.counts.items())
        self.stdout.write(f"customer_erase: customer {customer.pk} erased ({summary})")
