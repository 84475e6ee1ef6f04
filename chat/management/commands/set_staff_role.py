from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chat.models import Role
from chat.services import set_staff_role
from moderation.settings_history import COMMAND_ACTOR


class Command(BaseCommand):
    help = ("Give a staff login another role (peer supporter, moderator or admin); the change "
            "is kept in the history of settings.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True,
                            choices=[r for r in Role.values if r != Role.MEMBER])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            member = set_staff_role(username=options["username"], role=Role(options["role"]),
                                    actor=COMMAND_ACTOR)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"staff {options['username']} is now {member.get_role_display()}")
