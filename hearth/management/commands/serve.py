"""Run Hearth under uvicorn (or daphne) with the frame-size limit taken from settings.

`python manage.py serve` migrates, seeds the demo rooms and serves on 127.0.0.1:8000.
uvicorn is the default: on the fan-out benchmark it delivers more per core and accepts a
burst of connects far faster than daphne (docs/benchmarks.md). `--server daphne` remains.
"""

from __future__ import annotations

import gc
import resource
import sys
from typing import Any

from daphne import server as daphne_server
from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from rooms.demo import seed_demo_rooms


class Command(BaseCommand):
    help = "Serve Hearth with daphne (migrating and seeding demo rooms first unless told not to)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-setup", action="store_true",
                            help="skip migrate and demo rooms (for extra workers)")
        parser.add_argument("--no-demo", action="store_true", help="do not seed demo rooms")
        parser.add_argument("--server", choices=("uvicorn", "daphne"), default="uvicorn",
                            help="the ASGI server (default: uvicorn)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_setup"]:
            call_command("migrate", interactive=False, verbosity=0)
            if not options["no_demo"]:
                seed_demo_rooms()
        _raise_open_file_limit()
        freeze_startup_objects()
        # The database thread and the event loop share the GIL; Python's default 5 ms switch
        # interval let a batch of posts hold the loop (and every frame) for that long.
        sys.setswitchinterval(0.001)
        if options["server"] == "uvicorn":
            self._serve_with_uvicorn(options["host"], options["port"])
            return
        daphne_server.WebSocketFactory = _CloseFrameOnFailureFactory
        self.stdout.write(f"Hearth is listening on http://{options['host']}:{options['port']}/")
        self.stdout.flush()
        CommandLineInterface().run([
            "--bind", options["host"],
            "--port", str(options["port"]),
            # Frames over the limit are closed by daphne with 1009 before our code sees them.
            "--websocket-max-message-size", str(settings.HEARTH_MAX_FRAME_BYTES),
            "--websocket-max-frame-size", str(settings.HEARTH_MAX_FRAME_BYTES),
            # Ping idle sockets so dead phones are noticed and their seats freed.
            "--ping-interval", "20",
            "--ping-timeout", "30",
            "--websocket_connect_timeout", "10",
            # Verbosity 0 turns daphne's access log off: it would write every client's address.
            "--verbosity", "0",
            "hearth.asgi:application",
        ])

    def _serve_with_uvicorn(self, host: str, port: int) -> None:
        import uvicorn

        self.stdout.write(f"Hearth is listening on http://{host}:{port}/ (uvicorn)")
        self.stdout.flush()
        uvicorn.run(
            "hearth.asgi:application", host=host, port=port, lifespan="off",
            ws="websockets-sansio", ws_max_size=settings.HEARTH_MAX_FRAME_BYTES,
            ws_ping_interval=20, ws_ping_timeout=30, ws_per_message_deflate=False,
            # No access log: it would write every client's address.
            access_log=False, log_level="warning", server_header=False,
            # Room for a burst of connects (each one a member arriving) while joins are made.
            backlog=4096,
            # Forwarded client address and scheme from these proxies only (settings).
            proxy_headers=bool(settings.HEARTH_TRUSTED_PROXIES),
            forwarded_allow_ips=list(settings.HEARTH_TRUSTED_PROXIES),
        )


class _CloseFrameOnFailureFactory(daphne_server.WebSocketFactory):  # type: ignore[misc]
    """Daphne's websocket factory, failing sockets with a close frame instead of a TCP drop.

    Autobahn's default (failByDrop) drops the connection on an over-size frame, so the client
    sees 1006 and cannot tell it sent too much; with this it gets the close code 1009.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setProtocolOptions(failByDrop=False)


def freeze_startup_objects() -> None:
    """Load the application, then put everything made so far out of the garbage collector's
    reach.

    Django, the app and their modules are some 400,000 objects that live as long as the
    worker. A full collection walked them all: 130 to 170 ms with every socket of the worker
    waiting (seen during the fan-out benchmark); without them it took about 30 ms.
    """
    import hearth.asgi  # noqa: F401  (the application, as the server will import it)

    gc.collect()
    gc.freeze()


def _raise_open_file_limit() -> None:
    """Each socket is a file; lift the soft limit to the hard one for bursts of connects."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
