import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from chat.models import Role
from chat.services import add_staff
from moderation.settings_history import COMMAND_ACTOR, record_setting_change, snapshot


class Command(BaseCommand):
    help = "Create a staff login (peer supporter, moderator or admin) with its handle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True,
                            choices=[r for r in Role.values if r != Role.MEMBER])
        parser.add_argument("--password-env", default="HEARTH_STAFF_PASSWORD",
                            help="read the password from this environment variable if set")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get(options["password_env"]) or getpass.getpass("Password: ")
        if len(password) < 10:
            raise CommandError("use a password of at least 10 characters")
        with transaction.atomic():
            member = add_staff(username=options["username"], password=password,
                               role=Role(options["role"]))
            record_setting_change(actor=COMMAND_ACTOR, record=member, before=None,
                                  after=snapshot(member))
        self.stdout.write(f"staff {options['username']} appears as {member.handle} "
                          f"({member.get_role_display()})")
