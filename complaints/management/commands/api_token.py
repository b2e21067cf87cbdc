"""`manage.py api_token <username> [--revoke] [--rotate]`: the user's API token.

Prints the token (created when the user has none); --rotate replaces it with a new
one (the old one stops working at once); --revoke deletes it. Tokens can also be
managed in the admin (Auth Token → Tokens).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print (creating if needed), rotate or revoke a user's API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--revoke", action="store_true", help="delete the user's token")
        group.add_argument(
            "--rotate", action="store_true", help="replace the user's token with a new one"
        )

    def handle(self, *args, username: str, revoke: bool, rotate: bool, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if revoke:
            deleted, _rows = Token.objects.filter(user=user).delete()
            self.stdout.write(
                f"Token of {username} revoked." if deleted else f"{username} had no token."
            )
            return
        if not user.is_active:
            raise CommandError(f"{username} is not active: no token is issued.")
        with transaction.atomic():
            if rotate:
                Token.objects.filter(user=user).delete()
            token, _created = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
