from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.two_factor import reset_second_factor


class Command(BaseCommand):
    help = ("Remove a staff login's authenticator app and recovery codes (a lost phone). "
            "Their sessions end; their next sign-in sets up a new one.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no staff login is called {options['username']!r}")
        removed = reset_second_factor(user=user)
        self.stdout.write(f"second factor of {user.get_username()} reset "
                          f"({removed} device(s) removed); the next sign-in sets up a new one")
