"""The benchmark's options: scenario presets, command-line parsing and validation.

Every option is resolved in layers: built-in defaults, then the scenario's preset, then its
smoke variant (with --smoke), then what was given on the command line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bench.fanout.bodies import MIN_BODY_CHARS
from bench.fanout.stats import offered_deliveries_per_second, rate_for_offered

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("hearth", "reference")
MAX_BODY_CHARS = 2000  # Hearth's default HEARTH_MAX_BODY_CHARS

DEFAULTS: dict[str, Any] = {
    "target": "both", "server": "uvicorn", "reference_server": "daphne", "workers": 1,
    "layer": "memory",
    "database": "sqlite", "rooms": 4, "members": 50, "senders": 10, "offered": 16_000.0,
    "body_chars": 300, "duration": 20.0, "drain": 3.0, "drain_max": 30.0, "hold": 0.0,
    "heartbeat_seconds": None, "sessions": "http", "connect_timeout": 120.0, "seed": 1,
    "crisis_probe": None,
}
PRESETS: dict[str, dict[str, Any]] = {
    # Steady chat: 4 rooms of 50, 10 senders each, 16,000 deliveries/s, one worker.
    "s1": {"rooms": 4, "members": 50, "senders": 10, "offered": 16_000.0, "body_chars": 300,
           "duration": 20.0, "workers": 1, "layer": "memory"},
    # Idle members: 5,000 sockets on one worker, held past a heartbeat.
    "s2": {"rooms": 100, "members": 50, "senders": 0, "duration": 0.0, "workers": 1,
           "layer": "memory", "heartbeat_seconds": 5.0, "hold": 7.0, "sessions": "direct"},
    # A burst: 1,000 connects at once to one worker on Redis.
    "s3": {"rooms": 20, "members": 50, "senders": 0, "duration": 0.0, "workers": 1,
           "layer": "redis", "hold": 2.0},
    # s1's load over two workers sharing Redis, each room's members on both.
    "s4": {"rooms": 4, "members": 50, "senders": 10, "offered": 16_000.0, "body_chars": 300,
           "duration": 20.0, "workers": 2, "layer": "redis"},
}
SMOKE: dict[str, dict[str, Any]] = {
    "s1": {"rooms": 2, "members": 10, "senders": 2, "rate": 2.0, "duration": 5.0,
           "target": "hearth"},
    "s2": {"rooms": 4, "members": 25, "heartbeat_seconds": 1.0, "hold": 1.5,
           "target": "hearth"},
    "s3": {"rooms": 2, "members": 50, "hold": 1.0, "target": "hearth"},
    "s4": {"rooms": 2, "members": 10, "senders": 2, "rate": 2.0, "duration": 5.0,
           "target": "hearth"},
}
_Number = TypeVar("_Number", int, float)


@dataclass(frozen=True)
class Options:
    scenario: str
    smoke: bool
    check: bool
    targets: tuple[str, ...]
    server: str
    reference_server: str
    workers: int
    layer: str
    redis_url: str
    own_redis: bool
    database: str
    postgres_url: str
    rooms: int
    members: int
    senders: int
    rate: float
    body_chars: int
    duration: float
    drain: float
    drain_max: float
    hold: float
    heartbeat_seconds: float | None
    sessions: str
    connect_timeout: float
    server_cpus: frozenset[int] | None
    client_cpus: frozenset[int] | None
    json_path: Path | None
    hearth_dir: Path
    keep_work_dir: bool
    seed: int
    crisis_probe: float | None  # probe messages per second (Hearth, during the load)

    @property
    def connections(self) -> int:
        return self.rooms * self.members

    @property
    def offered(self) -> float:
        return offered_deliveries_per_second(rooms=self.rooms, senders=self.senders,
                                             rate=self.rate, members=self.members)

    @property
    def has_load(self) -> bool:
        return self.senders > 0 and self.duration > 0

    def describe(self, target: str = "hearth") -> str:
        """The scenario in one line; `target` names whose server it states."""
        server = self.reference_server if target == "reference" else self.server
        load = (f"{self.senders} senders/room at {self.rate:g} msg/s, {self.body_chars}-char "
                f"bodies, {self.duration:g} s" if self.has_load else "no senders (idle)")
        probe = (f"; crisis probe {self.crisis_probe:g} msg/s in a room of its own"
                 if self.crisis_probe and target == "hearth" else "")
        return (f"{self.scenario}{' smoke' if self.smoke else ''}: {self.rooms} rooms x "
                f"{self.members} members = {self.connections} sockets, {load}; "
                f"{self.workers} worker{'s' if self.workers > 1 else ''} ({server}), "
                f"layer {self.layer}, database {self.database}{probe}")


def _positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text, float)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _number(text: str, kind: type[_Number]) -> _Number:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None


def parse_cpus(text: str) -> frozenset[int] | None:
    """'0', '0,2', '0-3' or 'none' (no pinning)."""
    if text.strip().lower() in {"none", ""}:
        return None
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            cpus.update(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a CPU list (like 0, 0,1 or 0-3, or none): {text!r}") from None
    if not cpus:
        raise argparse.ArgumentTypeError(f"no CPU in {text!r}")
    return frozenset(cpus)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description=(
            "Room fan-out benchmark (issue 6). Starts the servers itself on free ports "
            "(Hearth via `manage.py serve`, and/or a minimal stock Channels chat from "
            "bench/reference), creates rooms and anonymous members, connects every member's "
            "websocket at once, then has senders post on a fixed schedule and measures "
            "every delivery: throughput, latency, losses, duplicates, order, connect time, "
            "server memory and CPU."),
        epilog=(
            "Scenarios (any option overrides the preset): "
            "s1: 4 rooms x 50 members, 10 senders/room, 300-char bodies, 16,000 offered "
            "deliveries/s, 20 s, one worker, in-memory layer. "
            "s2: 5,000 idle members in 100 rooms on one worker, heartbeat 5 s, held 7 s "
            "(sessions made directly in the database). "
            "s3: 1,000 connects at once (20 rooms x 50) to one worker on Redis. "
            "s4: s1's load on two workers sharing Redis, each room's members alternating "
            "between them. --smoke: a low, short variant that exits 1 on any loss, "
            "duplicate, out-of-order delivery, refused send or failed connect (never on "
            "timing). Examples: `python -m bench.fanout --scenario s1`; "
            "`python -m bench.fanout --scenario s3 --own-redis`; "
            "`python -m bench.fanout --scenario s1 --database postgres "
            "--postgres-url postgres://postgres@127.0.0.1:5432/test`."),
    )
    add = parser.add_argument
    add("--scenario", choices=sorted(PRESETS), default="s1", help="preset (default: s1)")
    add("--smoke", action="store_true",
        help="low-load short variant of the scenario; implies --check")
    add("--check", action="store_true",
        help="exit 1 on any lost, duplicate or out-of-order delivery, refused or unacknowledged "
             "send, failed connect or socket closed early")
    add("--target", choices=("hearth", "reference", "both"),
        help="what to measure; both runs the same scenario against Hearth then the reference "
             "and prints Hearth/reference ratios (default: both; hearth with --smoke)")
    add("--server", choices=("daphne", "uvicorn"),
        help="Hearth's ASGI server (`manage.py serve --server ...`; default: uvicorn, "
             "which Hearth ships with)")
    add("--reference-server", choices=("daphne", "uvicorn"),
        help="the reference's ASGI server (default: daphne, as in the Channels tutorial)")
    add("--workers", type=_positive_int, help="server processes (more than one needs Redis)")
    add("--layer", choices=("memory", "redis"), help="channel layer")
    add("--redis-url", default=os.environ.get("REDIS_URL", ""),
        help="Redis for --layer redis (default: $REDIS_URL)")
    add("--own-redis", action="store_true",
        help="start a private redis-server on a free port (pinned with the server CPUs) for "
             "--layer redis, instead of --redis-url")
    add("--database", choices=("sqlite", "postgres"),
        help="Hearth's database: a fresh SQLite file, or a fresh PostgreSQL database created "
             "and dropped on --postgres-url's server (default: sqlite)")
    add("--postgres-url", default="",
        help="PostgreSQL server for --database postgres (default: $DATABASE_URL)")
    add("--rooms", type=_positive_int, help="rooms (R)")
    add("--members", type=_positive_int, help="members per room (M); room capacity is M")
    add("--senders", type=_non_negative_int, help="senders per room (S)")
    add("--rate", type=_positive_float,
        help="messages per second per sender (default: what makes --offered)")
    add("--offered", type=_positive_float,
        help="offered deliveries per second = rooms x senders x rate x members")
    add("--duration", type=_non_negative_float, help="seconds of load")
    add("--body-chars", type=_positive_int, help="characters per message body")
    add("--drain", type=_non_negative_float,
        help="after the load, stop waiting once nothing arrived for this long (default 3 s)")
    add("--drain-max", type=_non_negative_float, help="longest drain (default 30 s)")
    add("--hold", type=_non_negative_float,
        help="seconds to keep every socket open after connecting (and after the load), "
             "then count the ones still open")
    add("--heartbeat-seconds", type=_positive_float,
        help="HEARTH_HEARTBEAT_SECONDS for the servers (default: Hearth's own)")
    add("--sessions", choices=("http", "direct"),
        help="how members get session cookies: http = POST /me/join/ as a room page's "
             "script does; direct = created in the database with Hearth's own services "
             "in one transaction (faster for thousands)")
    add("--connect-timeout", type=_positive_float,
        help="seconds each socket may take from connect to welcome (default 120)")
    default_server, default_client = _default_cpus()
    add("--server-cpus", type=parse_cpus, default=default_server,
        help="CPUs for the server processes, e.g. 0 or 0-1, or none "
             f"(default: {_cpus_text(default_server)})")
    add("--client-cpus", type=parse_cpus, default=default_client,
        help=f"CPUs for this benchmark process (default: {_cpus_text(default_client)})")
    add("--json", type=Path, metavar="PATH", help="also write every figure to this JSON file")
    add("--hearth-dir", type=Path, default=PROJECT_ROOT,
        help="the Hearth checkout to serve (default: this one); e.g. an export of another "
             "commit to compare")
    add("--keep-work-dir", action="store_true",
        help="keep the temporary directory (databases, logs); it is kept anyway on failure")
    add("--seed", type=int, help="seed for the message bodies")
    add("--crisis-probe", type=_positive_float, metavar="RATE",
        help="Hearth only, during the load: one more member, alone in a room of its own, "
             "sends RATE crisis messages per second that the rules miss and the learned "
             "detector catches, and each is timed from its send to its `support` card "
             "(not counted in the fan-out figures; --check fails on a missing card). "
             "Default: off")
    return parser


def _default_cpus() -> tuple[frozenset[int] | None, frozenset[int] | None]:
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return None, None
    return frozenset(available[:1]), frozenset(available[1:2])


def _cpus_text(cpus: frozenset[int] | None) -> str:
    return ",".join(map(str, sorted(cpus))) if cpus else "none"


def resolve_options(argv: Sequence[str] | None = None,
                    parser: argparse.ArgumentParser | None = None) -> Options:
    """Parse and validate; a bad combination is an argparse error (exit status 2)."""
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    given = {key: value for key, value in vars(args).items() if value is not None}
    if "rate" in given and "offered" in given:
        parser.error("give --rate or --offered, not both")
    values: dict[str, Any] = {}
    layers = [DEFAULTS, PRESETS[args.scenario], SMOKE[args.scenario] if args.smoke else {},
              {k: v for k, v in given.items() if k in DEFAULTS or k == "rate"}]
    for layer in layers:
        if "rate" in layer:
            values.pop("offered", None)
        if "offered" in layer:
            values.pop("rate", None)
        values.update(layer)
    return _validated(parser, args, values)


def _validated(parser: argparse.ArgumentParser, args: argparse.Namespace,
               values: dict[str, Any]) -> Options:
    rooms, members, senders = values["rooms"], values["members"], values["senders"]
    if senders > members:
        parser.error(f"--senders ({senders}) cannot exceed --members ({members})")
    if values["workers"] > 1 and values["layer"] == "memory":
        parser.error("the in-memory channel layer works within one process only: "
                     "use --layer redis with --workers above 1")
    if senders and values["duration"] <= 0:
        parser.error("senders need a --duration above 0")
    if not MIN_BODY_CHARS <= values["body_chars"] <= MAX_BODY_CHARS:
        parser.error(f"--body-chars must be within {MIN_BODY_CHARS}..{MAX_BODY_CHARS}")
    if senders and "rate" not in values:
        values["rate"] = rate_for_offered(offered=values["offered"], rooms=rooms,
                                          senders=senders, members=members)
    redis_url = args.redis_url
    if values["layer"] == "redis" and not (args.own_redis or redis_url):
        parser.error("--layer redis needs --redis-url (or $REDIS_URL) or --own-redis")
    postgres_url = args.postgres_url or os.environ.get("DATABASE_URL", "")
    if values["database"] == "postgres" and not postgres_url.startswith(
            ("postgres://", "postgresql://")):
        parser.error("--database postgres needs --postgres-url (or $DATABASE_URL) pointing "
                     "at a PostgreSQL server")
    if not (args.hearth_dir / "manage.py").is_file():
        parser.error(f"--hearth-dir {args.hearth_dir} has no manage.py")
    available = os.sched_getaffinity(0)
    for name, cpus in (("--server-cpus", args.server_cpus), ("--client-cpus", args.client_cpus)):
        if cpus is not None and not cpus <= available:
            parser.error(f"{name}: CPU {min(cpus - available)} is not available to this "
                         f"process (available: {_cpus_text(frozenset(available))})")
    target = values["target"]
    if values["crisis_probe"] is not None:
        if target == "reference":
            parser.error("--crisis-probe measures Hearth's support cards: use --target hearth "
                         "or both")
        if not senders:
            parser.error("--crisis-probe runs during the load: it needs senders (s1 or s4, "
                         "or --senders)")
    smoke = bool(args.smoke)
    return Options(
        scenario=args.scenario, smoke=smoke, check=smoke or bool(args.check),
        targets=TARGETS if target == "both" else (target,),
        server=values["server"], reference_server=values["reference_server"],
        workers=values["workers"], layer=values["layer"],
        redis_url=redis_url, own_redis=bool(args.own_redis), database=values["database"],
        postgres_url=postgres_url if values["database"] == "postgres" else "",
        rooms=rooms, members=members, senders=senders, rate=float(values.get("rate", 0.0)),
        body_chars=values["body_chars"], duration=values["duration"] if senders else 0.0,
        drain=values["drain"], drain_max=values["drain_max"], hold=values["hold"],
        heartbeat_seconds=values["heartbeat_seconds"], sessions=values["sessions"],
        connect_timeout=values["connect_timeout"], server_cpus=args.server_cpus,
        client_cpus=args.client_cpus, json_path=args.json,
        hearth_dir=args.hearth_dir.resolve(), keep_work_dir=bool(args.keep_work_dir),
        seed=values["seed"], crisis_probe=values["crisis_probe"],
    )
