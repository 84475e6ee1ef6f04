"""Delete what retention no longer keeps (hearth/retention.py; docs/operations.md,
"Retention"). Run daily by deploy/systemd/hearth-purge.timer."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hearth.retention import purge


class Command(BaseCommand):
    help = "Delete messages, transcripts, feedback, members and other records past retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="print how many rows of each kind would go; change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        report = purge(dry_run=options["dry_run"])
        self.stdout.write("Dry run, nothing changed. Would purge:" if report.dry_run
                          else "Purged:")
        for kind, count in report.counts.items():
            self.stdout.write(f"  {kind}: {count}")
        self.stdout.write(f"  total: {report.total}")
