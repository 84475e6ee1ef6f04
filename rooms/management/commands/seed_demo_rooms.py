from typing import Any

from django.core.management.base import BaseCommand

from rooms.demo import seed_demo_rooms


class Command(BaseCommand):
    help = "Create the demo rooms that are missing (existing rooms are left as they are)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = seed_demo_rooms()
        self.stdout.write(f"demo rooms created: {created}")
