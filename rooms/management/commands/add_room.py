from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rooms.models import Audience, FocusArea, Room, RoomKind


class Command(BaseCommand):
    help = "Create or update a room (the admin does the same; this is for scripts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--title", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--focus-area", choices=FocusArea.values, default=FocusArea.GENERAL)
        parser.add_argument("--audience", choices=Audience.values, default=Audience.EVERYONE)
        parser.add_argument("--kind", choices=RoomKind.values, default=RoomKind.ALWAYS_OPEN)
        parser.add_argument("--capacity", type=int, default=40)
        parser.add_argument("--staffed-only", action="store_true",
                            help="open only while someone from the team is on duty")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["capacity"] < 1:
            raise CommandError("capacity must be at least 1")
        room, created = Room.objects.update_or_create(slug=options["slug"], defaults={
            "title": options["title"], "description": options["description"],
            "focus_area": options["focus_area"], "audience": options["audience"],
            "kind": options["kind"], "capacity": options["capacity"], "is_active": True,
            "staffed_only": options["staffed_only"]})
        self.stdout.write(f"{'created' if created else 'updated'} room {room.slug}")
