"""``manage.py apitoken create --user USERNAME [--name NAME] [--scope read] [--scope sync]
[--expires-days 90]`` prints a new API token (once).

Also ``apitoken list [--user USERNAME]`` and ``apitoken revoke ID``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.accounts.models import SCOPES, ApiToken
from dashboard.accounts.tokens import DEFAULT_EXPIRY_DAYS, create_token


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens for the read API."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="Create a token and print it (it is shown only this once).")
        create.add_argument("--user", required=True, help="Username of the token's owner.")
        create.add_argument("--name", default="command line", help="What the token is for (default: 'command line').")
        create.add_argument(
            "--scope",
            action="append",
            choices=sorted(SCOPES),
            help="What the token may do; repeat for several (default: read). 'sync' starts syncs.",
        )
        create.add_argument(
            "--expires-days",
            type=int,
            default=DEFAULT_EXPIRY_DAYS,
            help=f"Lifetime in days, 0 for a token that never expires (default: {DEFAULT_EXPIRY_DAYS}).",
        )
        listing = sub.add_parser("list", help="List tokens (never the tokens themselves).")
        listing.add_argument("--user", help="Only this user's tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id (see 'apitoken list').")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options["user"], options["name"], options["scope"] or ["read"], options["expires_days"])
        elif action == "list":
            self._list(options.get("user"))
        else:
            self._revoke(options["token_id"])

    def _user(self, username: str) -> Any:
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None

    def _create(self, username: str, name: str, scopes: list[str], expires_days: int) -> None:
        user = self._user(username)
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate the account first.")
        try:
            new = create_token(user, name, scopes=scopes, expires_in_days=expires_days)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        # Only the token on stdout, so scripts can capture it: TOKEN=$(manage.py apitoken create ...)
        self.stdout.write(new.raw)
        expiry = f"expires {new.token.expires_at:%Y-%m-%d}" if new.token.expires_at else "never expires"
        self.stderr.write(
            f"Created API token {new.token.pk} '{new.token.name}' for {username} "
            f"(scopes: {', '.join(new.token.scopes)}; {expiry}); it is not shown again."
        )

    def _list(self, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("id")
        if username:
            tokens = tokens.filter(user=self._user(username))
        for token in tokens:
            if token.revoked_at:
                status = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}"
            elif token.is_expired:
                status = f"expired {token.expires_at:%Y-%m-%d %H:%M}"
            else:
                status = f"active until {token.expires_at:%Y-%m-%d}" if token.expires_at else "active, never expires"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            scopes = ",".join(token.scopes)
            self.stdout.write(
                f"{token.pk}\t{token.user.get_username()}\t{token.prefix}…\t{token.name}\t{scopes}\t{status}\tlast used {used}"
            )

    def _revoke(self, token_id: int) -> None:
        token = ApiToken.objects.filter(pk=token_id).first()
        if token is None:
            raise CommandError(f"No API token with id {token_id}.")
        if token.revoked_at:
            self.stdout.write(f"Token {token_id} was already revoked.")
            return
        token.revoke()
        self.stdout.write(f"Revoked token {token_id} ('{token.name}').")
