"""Fuzz the room protocol against a real Hearth worker, then look for damage.

``python -m bench.fuzz --frames 10000 --sockets 20``: starts `manage.py serve` (uvicorn) on a
free port with a scratch database (SQLite, or a scratch PostgreSQL database with
``--postgres-url``), opens the sockets into one room, sends the frames spread over them
(random types, fields of the wrong type, huge numbers, lone surrogates, deep nesting,
oversized strings, binary frames, random bytes, and valid frames mixed in), reopens a socket
the server closed (an oversized frame is closed with 1009), then checks:

* crashes: tracebacks or errors in the server's log, `internal_error` answers, 1011 closes;
* presence: with every socket open, the room's seat rows and the last `presence` count
  equal the sockets open;
* ghosts: after every socket closed, no seat row is left.

Prints a JSON report and exits 1 on any crash, ghost or presence mismatch. The per-member
rate limits are lifted by default so the frames reach the handlers (``--keep-limits`` keeps
them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.typing import Origin

from bench.fanout.servers import (
    LIFTED_LIMITS,
    PROBLEM_MARKERS,
    Process,
    free_port,
    scratch_postgres,
    start,
    wait_until_healthy,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ROOM = "fuzz-room"
SESSION_COOKIE = "hearth_session"
# Lines of the server log that are a handler failing, beyond bench.fanout's markers.
CRASH_MARKERS = (*PROBLEM_MARKERS, "frame handling failed")
# The server's frame limit (HEARTH_MAX_FRAME_BYTES); a few frames go over it on purpose.
FRAME_LIMIT = 16384
SETTLE_SECONDS = 1.5
# Frames a socket sends before waiting until the server has answered them all.
SYNC_EVERY = 25
OPEN_TIMEOUT = 30.0

CLIENT_TYPES = ("send", "resume", "history", "accept_rules", "report", "mute", "unmute",
                "set_region", "ask_for_support", "take_aside_reply", "take_aside_send",
                "take_aside_leave", "raise_hand", "lower_hand", "end_turn", "pass", "react",
                "host", "feedback")
HOST_ACTIONS = ("start", "pause", "resume", "end", "lock", "unlock", "next", "phase", "prompt",
                "remove", "move", "timer", "co_host", "nonsense")


# --- Frames ------------------------------------------------------------------------------------

@dataclass
class FrameMaker:
    rng: random.Random
    handles: list[str] = field(default_factory=list)
    seq_hint: int = 1

    def frame(self) -> str | bytes:
        """One frame to send: text (JSON or not) or bytes."""
        kind = self.rng.choices(
            ("valid", "wrong_field", "random_type", "huge_number", "surrogate", "nesting",
             "oversized", "binary", "random_bytes", "not_an_object", "extra_fields"),
            weights=(30, 15, 6, 8, 6, 5, 6, 5, 6, 5, 8))[0]
        maker = getattr(self, f"_{kind}")
        made: str | bytes = maker()
        return made

    # Valid frames: what a page sends.
    def valid_frame(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(CLIENT_TYPES)
        seq = rng.randint(0, self.seq_hint + 5)
        handle = rng.choice(self.handles) if self.handles else "QuietHeron42"
        fields_by_type: dict[str, dict[str, Any]] = {
            "send": {"client_id": secrets.token_hex(8), "body": self._words()},
            "resume": {"after_seq": seq},
            "history": {"before_seq": seq, "limit": rng.randint(1, 100)},
            "accept_rules": {"version": rng.randint(0, 3)},
            "report": {"seq": seq, "reason": rng.choice(("harassment", "spam", "other")),
                       "note": self._words()},
            "mute": {"handle": handle}, "unmute": {"handle": handle},
            "set_region": {"region": rng.choice(("GB", "US", "*", "ZZ"))},
            "ask_for_support": {"seq": rng.choice((None, seq))},
            "take_aside_reply": {"aside_id": rng.randint(1, 5), "accept": rng.random() < 0.5},
            "take_aside_send": {"aside_id": rng.randint(1, 5),
                                "client_id": secrets.token_hex(8), "body": self._words()},
            "take_aside_leave": {"aside_id": rng.randint(1, 5)},
            "raise_hand": {}, "lower_hand": {}, "end_turn": {}, "pass": {},
            "react": {"reaction": rng.choice(("heart", "hug", "clap", "wave", "nope")),
                      "seq": rng.choice((None, seq))},
            "host": {"action": rng.choice(HOST_ACTIONS), "handle": handle,
                     "seconds": rng.randint(0, 600), "position": rng.randint(0, 5)},
            "feedback": {"session_id": rng.randint(1, 5), "occurrence_on": "2026-12-07",
                         "mood_before": rng.randint(1, 5), "mood_after": rng.randint(1, 5),
                         "helpful": rng.choice((True, False, None)),
                         "tags": ["listened"], "comment": self._words()},
        }
        return {"type": kind, **fields_by_type[kind]}

    def _valid(self) -> str:
        return json.dumps(self.valid_frame())

    def _wrong_field(self) -> str:
        frame = self.valid_frame()
        keys = [key for key in frame if key != "type"] or ["type"]
        frame[self.rng.choice(keys)] = self._odd_value()
        if self.rng.random() < 0.2:
            frame.pop(self.rng.choice(list(frame)))  # a missing field, "type" included
        return json.dumps(frame)

    def _random_type(self) -> str:
        kind = self.rng.choice((self._text(12), "", " send", "SEND", "welcome", "__proto__",
                                "constructor", "error", "heartbeat"))
        return json.dumps({"type": kind, "body": self._words()})

    def _huge_number(self) -> str:
        frame = self.valid_frame()
        number = self.rng.choice(("1" + "0" * self.rng.randint(18, 400), "-99999999999999999999",
                                  "1e308", "1e309", "-0", "NaN", "Infinity", "0.5", "1E2"))
        body = json.dumps(frame)[:-1]
        return f'{body}, "seq": {number}, "after_seq": {number}, "limit": {number}}}'

    def _surrogate(self) -> str:
        frame = self.valid_frame()
        lone = self.rng.choice(("\\ud800", "\\udfff", "\\udc00x", "a\\ud83d", "\\ud83d\\ud83d"))
        where = self.rng.choice(("value", "key", "type"))
        body = json.dumps(frame)[:-1]
        if where == "key":
            return f'{body}, "k{lone}": 1}}'
        if where == "type":
            return f'{{"type": "send{lone}", "client_id": "x", "body": "y"}}'
        return f'{body}, "body": "hello {lone}", "handle": "{lone}"}}'

    def _nesting(self) -> str:
        depth = self.rng.randint(50, 6000)
        inner = self.rng.choice(("[", '{"a":'))
        closing = "]" if inner == "[" else "}"
        nested = inner * depth + "1" + closing * depth
        if self.rng.random() < 0.5:
            return f'{{"type": "send", "client_id": "n", "body": {nested}}}'
        return nested

    def _oversized(self) -> str:
        # Mostly just under the frame limit (over the body limit); sometimes over it.
        size = self.rng.choice((2001, 5000, FRAME_LIMIT - 200, FRAME_LIMIT + 1, 4 * FRAME_LIMIT))
        if self.rng.random() < 0.2:
            size = min(size, FRAME_LIMIT - 200)
        return json.dumps({"type": "send", "client_id": secrets.token_hex(4),
                           "body": "x" * size})

    def _binary(self) -> bytes:
        return json.dumps(self.valid_frame()).encode()

    def _random_bytes(self) -> str | bytes:
        raw = self.rng.randbytes(self.rng.randint(0, 300))
        if self.rng.random() < 0.5:
            return raw
        return raw.decode("latin-1")

    def _not_an_object(self) -> str:
        return self.rng.choice(("null", "1", "[]", '"send"', "true", "[{\"type\": \"send\"}]",
                                "", " ", "{", "}", '{"type": }', "{'type': 'send'}"))

    def _extra_fields(self) -> str:
        frame = self.valid_frame()
        for _ in range(self.rng.randint(1, 30)):
            frame[self._text(8)] = self._odd_value()
        return json.dumps(frame)

    def _odd_value(self) -> Any:
        rng = self.rng
        return rng.choice((
            None, True, False, -1, 0, 2**63, -(2**63) - 1, 10**19, 3.14, 1e300, "",
            "x" * rng.randint(1, 3000), [], [1, 2, 3], {}, {"a": {"b": []}}, "\u202e\u0000",
            "<script>alert(1)</script>", "' OR 1=1 --", "\U0001f600" * 50, [None] * 50,
        ))

    def _words(self) -> str:
        words = ("hello", "how", "are", "you", "today", "I", "feel", "okay", "thanks", "the",
                 "\u00e9t\u00e9", "\u4f60\u597d", "\U0001f499", "\u200b", "\t", "  ")
        return " ".join(self.rng.choice(words) for _ in range(self.rng.randint(1, 12)))

    def _text(self, length: int) -> str:
        return "".join(chr(self.rng.choice((self.rng.randint(32, 126),
                                            self.rng.randint(0xA0, 0x2FFF))))
                       for _ in range(self.rng.randint(1, length)))


# --- Sockets -----------------------------------------------------------------------------------

@dataclass
class Tally:
    sent: int = 0
    sent_binary: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    close_codes: Counter[int] = field(default_factory=Counter)
    reopened: int = 0
    last_presence: int | None = None


class FuzzSocket:
    def __init__(self, url: str, origin: str, cookie: str, tally: Tally,
                 maker: FrameMaker) -> None:
        self.url, self.origin, self.cookie = url, origin, cookie
        self.tally, self.maker = tally, maker
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.synced = asyncio.Event()

    async def open(self) -> None:
        self.ws = await websockets.connect(
            self.url, origin=Origin(self.origin), open_timeout=OPEN_TIMEOUT,
            additional_headers={"Cookie": f"{SESSION_COOKIE}={self.cookie}"},
            max_size=None, compression=None)
        welcome = json.loads(await asyncio.wait_for(self.ws.recv(), OPEN_TIMEOUT))
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"expected welcome, got {welcome}")
        self.maker.seq_hint = max(self.maker.seq_hint, int(welcome.get("head_seq") or 0))
        rules = welcome.get("rules") or {}
        if not rules.get("accepted") and "version" in rules:
            await self.ws.send(json.dumps({"type": "accept_rules", "version": rules["version"]}))
        self.reader = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type", "?")
                self.tally.answers[kind] += 1
                if kind == "error":
                    self.tally.error_codes[frame.get("code", "?")] += 1
                elif kind == "presence":
                    self.tally.last_presence = int(frame["count"])
                    self.maker.handles = [member["handle"] for member in frame["members"]]
                elif kind == "resumed":
                    self.synced.set()
                elif kind in {"ack", "message"} and isinstance(frame.get("seq"), int):
                    self.maker.seq_hint = max(self.maker.seq_hint, frame["seq"])
        code = ws.close_code if ws.close_code is not None else 1006
        self.tally.close_codes[code] += 1

    async def send(self, frame: str | bytes) -> None:
        if self.ws is None or self.ws.state is not websockets.protocol.State.OPEN:
            await self.reopen()
        try:
            await self.ws.send(frame)
        except websockets.ConnectionClosed:
            await self.reopen()
            return
        self.tally.sent += 1
        if isinstance(frame, bytes):
            self.tally.sent_binary += 1

    async def sync(self) -> None:
        """Open, and every frame sent before answered: a resume sent last has come back."""
        for _ in range(10):
            if not self.is_open:
                await self.reopen()
            self.synced.clear()
            with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
                await self.ws.send(json.dumps({"type": "resume", "after_seq": self.maker.seq_hint}))
                await asyncio.wait_for(self.synced.wait(), 10)
                return
            await asyncio.sleep(0.5)  # closed or refused (rate-limited): try again
        raise RuntimeError("a socket could not be brought back after the fuzzing")

    async def closed_by_server(self) -> None:
        if self.reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.reader), 10)
        await self.reopen()

    async def reopen(self) -> None:
        await self.close()
        self.tally.reopened += 1
        await self.open()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await self.reader
            self.reader = None

    @property
    def is_open(self) -> bool:
        return self.ws is not None and self.ws.state is websockets.protocol.State.OPEN


async def fuzz(port: int, cookies: list[str], frames: int, seed: int,
               ) -> tuple[Tally, list[FuzzSocket]]:
    """Send the frames, spread over the sockets; every socket is open again at the end."""
    tally = Tally()
    maker = FrameMaker(rng=random.Random(seed))
    base = f"127.0.0.1:{port}"
    sockets = [FuzzSocket(f"ws://{base}/ws/rooms/{ROOM}/", f"http://{base}", cookie, tally,
                          maker) for cookie in cookies]
    for sock in sockets:
        await sock.open()
    per_socket = [frames // len(sockets) + (1 if i < frames % len(sockets) else 0)
                  for i in range(len(sockets))]

    async def drive(sock: FuzzSocket, count: int) -> None:
        for number in range(1, count + 1):
            frame = maker.frame()
            await sock.send(frame)
            if len(frame) > FRAME_LIMIT:
                await sock.closed_by_server()  # 1009: the frames after it would be lost
            elif number % SYNC_EVERY == 0:
                await sock.sync()  # a bounded number of frames in flight

    await asyncio.gather(*(drive(sock, count) for sock, count in zip(sockets, per_socket,
                                                                    strict=True)))
    for sock in sockets:  # everyone back in and answered before presence is compared
        await sock.sync()
    await asyncio.sleep(SETTLE_SECONDS)  # the last presence update (debounced)
    return tally, sockets


# --- The server --------------------------------------------------------------------------------

def _env(work_dir: Path, database_url: str, keep_limits: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": f"fuzz-{secrets.token_hex(16)}",
        "HEARTH_STATE_DIR": str(work_dir / "state"),
        "HEARTH_CHANNEL_PREFIX": f"fuzz-{secrets.token_hex(4)}",
        "HEARTH_PRESENCE_DEBOUNCE_SECONDS": "0.2",
        "HEARTH_MAX_FRAME_BYTES": str(FRAME_LIMIT),
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
    })
    if not keep_limits:
        env.update(LIFTED_LIMITS)
    return env


def _python(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def seat_rows(env: dict[str, str]) -> int:
    """Seat rows (RoomConnection) of the fuzz room, read from the server's database."""
    out = _python(env, "manage.py", "shell", "--verbosity", "0", "-c",
                  "from rooms.models import RoomConnection; "
                  f"print(RoomConnection.objects.filter(room__slug={ROOM!r}).count())")
    return int(out.strip().splitlines()[-1])


@contextlib.contextmanager
def database(work_dir: Path, postgres_url: str) -> Iterator[str]:
    if postgres_url:
        with scratch_postgres(postgres_url) as url:
            yield url
    else:
        yield f"sqlite:///{work_dir / 'fuzz.sqlite3'}"


def run(args: argparse.Namespace, work_dir: Path) -> dict[str, Any]:
    with database(work_dir, args.postgres_url) as database_url:
        env = _env(work_dir, database_url, args.keep_limits)
        port = free_port()
        # Without --no-setup: the worker migrates and seeds the demo rooms first.
        server: Process = start("hearth", [sys.executable, "manage.py", "serve", "--port",
                                           str(port)],
                                cwd=PROJECT_ROOT, env=env, log=work_dir / "hearth.log",
                                port=port, cpus=None)
        try:
            wait_until_healthy(server, None)
            setup = json.loads(_python(
                env, "-m", "bench.fanout.hearth_setup", "--capacity",
                str(args.sockets + 10), "--sessions", str(args.sockets), ROOM,
            ).strip().splitlines()[-1])
            started = time.perf_counter()
            tally, open_sockets, (seats_open, presence) = asyncio.run(
                _fuzz_and_close(port, setup["sessions"], args.frames, args.seed, env))
            seconds = time.perf_counter() - started
            ghosts = seat_rows(env)
        finally:
            server.stop()
        log = server.log.read_text(errors="replace").splitlines()
    crash_lines = [line for line in log if any(marker in line for marker in CRASH_MARKERS)]
    crashes = (len(crash_lines) + tally.error_codes.get("internal_error", 0)
               + tally.close_codes.get(1011, 0))
    presence_ok = seats_open == open_sockets and presence == open_sockets
    return {
        "frames": args.frames, "sockets": args.sockets, "seed": args.seed,
        "frames_sent": tally.sent, "binary_sent": tally.sent_binary,
        "sockets_reopened": tally.reopened, "seconds": round(seconds, 1),
        "answers": dict(tally.answers.most_common()),
        "error_codes": dict(tally.error_codes.most_common()),
        "close_codes": {str(code): count for code, count in sorted(tally.close_codes.items())},
        "crashes": crashes, "crash_lines": crash_lines[:20],
        "sockets_open_at_end": open_sockets, "seat_rows_while_open": seats_open,
        "presence_while_open": presence, "presence_ok": presence_ok,
        "seat_rows_after_close": ghosts,
        "ok": crashes == 0 and ghosts == 0 and presence_ok,
    }


async def _fuzz_and_close(port: int, cookies: list[str], frames: int, seed: int,
                          env: dict[str, str]) -> tuple[Tally, int, tuple[int, int | None]]:
    tally, sockets = await fuzz(port, cookies, frames, seed)
    open_sockets = sum(sock.is_open for sock in sockets)
    seats_open = await asyncio.to_thread(seat_rows, env)
    presence = tally.last_presence
    for sock in sockets:
        await sock.close()
    # Seats go as each socket's disconnect runs; give the worker a moment to finish.
    for _ in range(20):
        if not await asyncio.to_thread(seat_rows, env):
            break
        await asyncio.sleep(0.5)
    return tally, open_sockets, (seats_open, presence)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--sockets", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default="",
                        help="a PostgreSQL server to make a scratch database on (else SQLite)")
    parser.add_argument("--keep-limits", action="store_true",
                        help="keep the per-member rate limits (most frames are then refused)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--work-dir", type=Path, help="keep the server log and database here")
    args = parser.parse_args(argv)
    if args.work_dir:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        report = run(args, args.work_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="hearth-fuzz-") as tmp:
            report = run(args, Path(tmp))
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
