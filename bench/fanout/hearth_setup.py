"""Create the benchmark's rooms, and members with browser sessions, in Hearth's database.

Run by the benchmark inside Hearth's environment (the servers' DATABASE_URL):
``python -m bench.fanout.hearth_setup --capacity M --sessions N SLUG...``. Rooms are made with
Hearth's own `add_room` command (plain always-open rooms, not staffed-only, capacity M);
members with the same service a first page visit uses (`create_anonymous_member`), each in a
session of the configured session store, as `ensure_member` does. Prints one JSON line:
``{"rooms": [...], "sessions": [session keys]}``.
"""

from __future__ import annotations

import argparse
import io
import json
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--capacity", type=int, required=True)
    parser.add_argument("--sessions", type=int, default=0)
    parser.add_argument("slugs", nargs="+")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hearth.settings")
    import django

    django.setup()
    from django.core.management import call_command

    for number, slug in enumerate(args.slugs, start=1):
        call_command("add_room", slug, "--title", f"Benchmark room {number}",
                     "--capacity", str(args.capacity), stdout=io.StringIO())
    print(json.dumps({"rooms": args.slugs, "sessions": _sessions(args.sessions)}))


def _sessions(count: int) -> list[str]:
    from importlib import import_module

    from django.conf import settings
    from django.db import transaction

    from chat.identity import SESSION_MEMBER_KEY
    from chat.services import create_anonymous_member

    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys: list[str] = []
    with transaction.atomic():  # one commit for thousands: SQLite commits are the cost
        for _ in range(count):
            member = create_anonymous_member()
            session = store()
            session[SESSION_MEMBER_KEY] = member.pk
            session.create()
            keys.append(str(session.session_key))
    return keys


if __name__ == "__main__":
    main()
