"""``manage.py people link``: link vendor people into identities now (a sync does it too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.people.services import link_people


class Command(BaseCommand):
    help = "People across vendors. 'link' groups vendor people by e-mail and proposes exact name matches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["link"])

    def handle(self, *args: Any, **options: Any) -> None:
        result = link_people()
        self.stdout.write(str(result))
