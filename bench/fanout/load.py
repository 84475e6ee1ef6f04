"""The client side: members' websockets in one asyncio loop, senders on a fixed schedule, and
the tally of every frame they receive.

Per received frame the work is one json.loads and a few dict and set operations, so one core
keeps up with tens of thousands of frames per second; the report shows this process's CPU so
a saturated client is visible.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.typing import Origin

from bench.fanout.bodies import BodyGenerator
from bench.fanout.options import Options
from bench.fanout.probe import CARD_WAIT_SECONDS, ProbePlan, ProbeTally
from bench.fanout.procstat import cpu_seconds, rss_bytes
from bench.fanout.screening_model import (
    CATCH_UP_SECONDS,
    Status,
    any_ready,
    handled_since,
    status_from_readyz,
)

SESSION_COOKIE = "hearth_session"
HTTP_CONCURRENCY = 16  # Hearth's views run in one thread per worker: more only queues
SAMPLE_SECONDS = 0.2
SETTLE_SECONDS = 1.0  # after the last welcome, for presence broadcasts to finish
START_DELAY = 0.5  # between starting the sender tasks and the first scheduled send


class ClosedBeforeWelcomeError(Exception):
    pass


@dataclass(eq=False)
class Member:
    index: int
    room: int
    slug: str
    worker: int
    cookie: str | None
    sender: int = -1  # this member's number among all senders; -1: only listens
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    started: float = 0.0
    welcomed_at: float = 0.0
    welcome: dict[str, Any] = field(default_factory=dict)
    welcomed: asyncio.Future[None] | None = None
    rules: asyncio.Future[dict[str, Any]] | None = None
    last_seq: int = 0
    last_by_sender: dict[int, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    heartbeats: int = 0
    closed: bool = False
    close_code: int | None = None
    failure: str = ""

    # Frames every reader handles alike (the fan-out's and the crisis probe's).
    def on_welcome(self, frame: dict[str, Any], now: float) -> None:
        self.welcomed_at = now
        self.welcome = frame
        self.last_seq = int(frame.get("head_seq", 0))
        if self.welcomed is not None and not self.welcomed.done():
            self.welcomed.set_result(None)

    def on_rules(self, frame: dict[str, Any]) -> None:
        if self.rules is not None and not self.rules.done():
            self.rules.set_result(frame)

    def on_rules_refused(self, code: str) -> None:
        if self.rules is not None and not self.rules.done():
            self.rules.set_exception(RuntimeError(f"accept_rules refused: {code}"))

    def on_closed(self, ws: ClientConnection) -> None:
        self.closed = True
        self.close_code = ws.close_code
        if self.welcomed is not None and not self.welcomed.done():
            self.welcomed.set_exception(ClosedBeforeWelcomeError(
                f"closed before welcome, code {ws.close_code}"))


@dataclass
class Tally:
    """Everything counted while the load runs (times from time.perf_counter)."""

    sent_at: dict[str, float] = field(default_factory=dict)
    origin: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # room, sender, n
    acked: dict[str, str] = field(default_factory=dict)  # client_id -> status
    duplicate_acks: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # client_id -> error code
    other_errors: Counter[str] = field(default_factory=Counter)
    delivered: dict[str, int] = field(default_factory=dict)  # client_id -> receivers
    latencies: list[float] = field(default_factory=list)
    ack_latencies: list[float] = field(default_factory=list)
    send_lag: list[float] = field(default_factory=list)  # due -> written
    send_wait: list[float] = field(default_factory=list)  # inside ws.send (back-pressure)
    deliveries: int = 0
    duplicates: int = 0
    # The same message again with a held or collapsed status: screening (the learned
    # detector, moments after delivery) changed it; a status change, not a second delivery.
    status_updates: int = 0
    out_of_order: int = 0
    unknown: int = 0
    not_visible: int = 0
    send_failures: int = 0
    expected: int = 0  # deliveries owed so far: receivers x accepted messages
    last_activity: float = 0.0


@dataclass
class Window:
    """CPU seconds of each server process and of this process over a stretch of time."""

    seconds: float
    server_cpu: list[float]
    client_cpu: float


@dataclass
class LoadOutcome:
    target: str
    sessions_method: str
    sessions_seconds: float
    setup_seconds: float
    members: list[Member]
    connect_started: float
    connect_ended: float
    connect_window: Window
    rss_before: list[int]
    rss_after: list[int]
    rss_peak: list[int]
    rss_peak_total: int
    redis_rss_peak: int
    redis_cpu_load: float | None
    tally: Tally
    load_window: Window | None
    deliveries_in_window: int
    drain_seconds: float
    receivers_by_room: dict[int, int]
    hold_seconds: float
    open_after_hold: int
    heartbeat_after_hold: int
    closed_early: int
    log_problems: list[str] = field(default_factory=list)
    # Hearth runs with a load: each worker's /readyz `screening_model` before and after it,
    # and the messages stored meanwhile (the load's and the probe's acknowledged sends).
    model_before: list[Status] = field(default_factory=list)
    model_after: list[Status] = field(default_factory=list)
    stored_messages: int = 0
    probe: ProbeTally | None = None


class Sampler:
    """Server memory every SAMPLE_SECONDS: the peak of each process and of their sum."""

    def __init__(self, pids: list[list[int]], redis_pid: int | None) -> None:
        self.pids = pids  # per worker: its process and any children
        self.redis_pid = redis_pid
        self.peak = [0] * len(pids)
        self.peak_total = 0
        self.redis_peak = 0
        self._task: asyncio.Task[None] | None = None

    def rss(self) -> list[int]:
        return [sum(rss_bytes(pid) for pid in group) for group in self.pids]

    def cpu(self) -> list[float]:
        return [sum(cpu_seconds(pid) for pid in group) for group in self.pids]

    def sample(self) -> list[int]:
        now = self.rss()
        self.peak = [max(a, b) for a, b in zip(self.peak, now, strict=True)]
        self.peak_total = max(self.peak_total, sum(now))
        if self.redis_pid is not None:
            self.redis_peak = max(self.redis_peak, rss_bytes(self.redis_pid))
        return now

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.sample()

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_SECONDS)


Reader = Callable[["Member", ClientConnection], Coroutine[Any, Any, None]]


class Load:
    def __init__(self, options: Options, target: str, ports: list[int], rooms: list[str],
                 cookies: list[str], sampler: Sampler, probe: ProbePlan | None = None) -> None:
        self.options = options
        self.target = target
        self.hearth = target == "hearth"
        self.ports = ports
        self.rooms = rooms
        self.cookies = cookies
        self.sampler = sampler
        self.tally = Tally()
        self.tag = secrets.token_hex(3)
        self.receivers_by_room: dict[int, int] = {}
        self.members = self._members()
        self._bodies: Iterator[str] = iter(())
        # The crisis probe: a member of its own room, outside self.members and every
        # fan-out figure.
        self.probe_plan = probe
        self.probe: ProbeTally | None = None
        self.probe_member: Member | None = None
        if probe is not None:
            self.probe = ProbeTally(texts=probe.texts, rate=probe.rate)
            self.probe_member = Member(index=-1, room=options.rooms, slug=probe.room, worker=0,
                                       cookie=probe.cookie)

    def _members(self) -> list[Member]:
        options, members = self.options, list[Member]()
        for room in range(options.rooms):
            for seat in range(options.members):
                members.append(Member(
                    index=len(members), room=room, slug=self.rooms[room],
                    # Each room's members alternate between the workers.
                    worker=seat % len(self.ports), cookie=None,
                    sender=room * options.senders + seat if seat < options.senders else -1))
        return members

    # --- sessions -----------------------------------------------------------------------
    async def http_sessions(self) -> float:
        """Each member joins as a room page's script does and keeps the cookie."""
        started = time.perf_counter()
        gate = asyncio.Semaphore(HTTP_CONCURRENCY)

        async def visit(member: Member) -> None:
            async with gate:
                member.cookie = await _session_cookie(self.ports[member.worker])

        await asyncio.gather(*(visit(member) for member in self.members))
        return time.perf_counter() - started

    def use_cookies(self, cookies: list[str]) -> None:
        for member, cookie in zip(self.members, cookies, strict=True):
            member.cookie = cookie

    # --- connecting ---------------------------------------------------------------------
    async def connect_all(self) -> tuple[float, float]:
        """Every socket at once (one gather); returns (first start, last welcome)."""
        first = time.perf_counter()
        await asyncio.gather(*(self._join(member) for member in self.members))
        welcomed = [m.welcomed_at for m in self.members if not m.failure]
        return first, max(welcomed, default=first)

    async def _join(self, member: Member, read: Reader | None = None) -> None:
        loop = asyncio.get_running_loop()
        member.welcomed = loop.create_future()
        port = self.ports[member.worker]
        headers = {"Cookie": f"{SESSION_COOKIE}={member.cookie}"} if member.cookie else {}
        member.started = time.perf_counter()
        try:
            member.ws = ws = await connect(
                f"ws://127.0.0.1:{port}/ws/rooms/{member.slug}/",
                origin=Origin(f"http://127.0.0.1:{port}"), additional_headers=headers,
                compression=None, ping_interval=None, close_timeout=5,
                open_timeout=self.options.connect_timeout)
            member.reader = loop.create_task((read or self._read)(member, ws))
            remaining = self.options.connect_timeout - (time.perf_counter() - member.started)
            await asyncio.wait_for(asyncio.shield(member.welcomed), max(remaining, 0.001))
        except Exception as exc:
            member.failure = f"{type(exc).__name__}: {exc}"[:160]

    async def accept_rules(self) -> None:
        """Hearth refuses sends until the member accepted the room's current rules."""
        if not self.hearth:
            return
        loop = asyncio.get_running_loop()

        async def accept(member: Member, ws: ClientConnection) -> None:
            member.rules = loop.create_future()
            version = member.welcome["rules"]["version"]
            await ws.send(json.dumps({"type": "accept_rules", "version": version}))
            await asyncio.wait_for(member.rules, 30)

        await asyncio.gather(*(accept(m, m.ws) for m in self._posting_members()
                               if m.ws is not None))

    def _posting_members(self) -> list[Member]:
        probe = self.probe_member
        return self.senders() + ([probe] if probe is not None and not probe.failure else [])

    def senders(self) -> list[Member]:
        return [m for m in self.members if m.sender >= 0 and not m.failure]

    # --- receiving ----------------------------------------------------------------------
    async def _read(self, member: Member, ws: ClientConnection) -> None:
        tally = self.tally
        sent_at, delivered, origin = tally.sent_at, tally.delivered, tally.origin
        latency = tally.latencies.append
        seen = member.seen
        loads, clock = json.loads, time.perf_counter
        try:
            async for raw in ws:
                now = clock()
                frame = loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    client_id = frame.get("client_id")
                    sent = sent_at.get(client_id)
                    if sent is None:
                        tally.unknown += 1
                        continue
                    tally.last_activity = now
                    if client_id in seen:
                        if frame.get("status") != "visible" or frame.get("collapsed"):
                            tally.status_updates += 1
                        else:
                            tally.duplicates += 1
                        continue
                    seen.add(client_id)
                    latency(now - sent)
                    delivered[client_id] = delivered.get(client_id, 0) + 1
                    tally.deliveries += 1
                    seq = frame.get("seq")
                    if seq is None:  # the reference has no seq: order per sender
                        _room, sender, number = origin[client_id]
                        if number < member.last_by_sender.get(sender, -1):
                            tally.out_of_order += 1
                        else:
                            member.last_by_sender[sender] = number
                    elif seq <= member.last_seq:
                        tally.out_of_order += 1
                    else:
                        member.last_seq = seq
                    if frame.get("status", "visible") != "visible":
                        tally.not_visible += 1
                elif kind == "heartbeat":
                    member.heartbeats += 1
                elif kind == "ack":
                    self._on_ack(frame, now)
                elif kind == "error":
                    self._on_error(member, frame, now)
                elif kind == "welcome":
                    member.on_welcome(frame, now)
                elif kind == "rules":
                    member.on_rules(frame)
        except ConnectionClosed:
            pass
        finally:
            member.on_closed(ws)

    def _on_ack(self, frame: dict[str, Any], now: float) -> None:
        tally = self.tally
        client_id = frame.get("client_id", "")
        if client_id in tally.acked:
            tally.duplicate_acks += 1
            return
        status = str(frame.get("status", "visible"))
        tally.acked[client_id] = status
        tally.last_activity = now
        sent = tally.sent_at.get(client_id)
        if sent is not None:
            tally.ack_latencies.append(now - sent)
            tally.expected += self.receivers_by_room.get(tally.origin[client_id][0], 0)

    def _on_error(self, member: Member, frame: dict[str, Any], now: float) -> None:
        code = str(frame.get("code", "?"))
        client_id = frame.get("client_id")
        if client_id is not None:
            self.tally.refused[str(client_id)] = code
            self.tally.last_activity = now
            return
        self.tally.other_errors[code] += 1
        member.on_rules_refused(code)

    # --- the crisis probe -------------------------------------------------------------------
    async def join_probe(self) -> None:
        """The probe's member: a session like the others', then its socket."""
        member, plan = self.probe_member, self.probe_plan
        if member is None or plan is None or self.probe is None:
            return
        port = self.ports[member.worker]
        try:
            if member.cookie is None:
                member.cookie = await _session_cookie(port)
        except Exception as exc:
            member.failure = f"{type(exc).__name__}: {exc}"[:160]
        else:
            await self._join(member, self._read_probe)
        if member.failure:
            self.probe.failure = f"the probe could not join its room: {member.failure}"

    async def _read_probe(self, member: Member, ws: ClientConnection) -> None:
        probe = self.probe
        if probe is None:
            return
        clock = time.perf_counter
        try:
            async for raw in ws:
                now = clock()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "support":
                    probe.on_card(frame, now)
                elif kind == "ack":
                    probe.on_ack(frame)
                elif kind == "error":
                    probe.on_error(frame)
                    if frame.get("client_id") is None:
                        member.on_rules_refused(str(frame.get("code", "?")))
                elif kind == "welcome":
                    member.on_welcome(frame, now)
                elif kind == "rules":
                    member.on_rules(frame)
        except ConnectionClosed:
            pass
        finally:
            member.on_closed(ws)

    async def _send_probes(self, ws: ClientConnection, first: float, end: float) -> None:
        probe = self.probe
        if probe is None:
            return
        for number, due in _schedule(first, end, 1 / probe.rate):
            await _sleep_until(due)
            client_id = f"{self.tag}-probe-{number}"
            text = json.dumps({"type": "send", "client_id": client_id,
                               "body": probe.text_for(number)})
            probe.note_sent(client_id, time.perf_counter())
            try:
                await ws.send(text)
            except ConnectionClosed:
                probe.send_failures += 1
                return

    async def _wait_for_cards(self, model_ready: bool) -> None:
        """After the drain: until every acknowledged probe has its card, CARD_WAIT_SECONDS at
        most. Not at all when no worker's model is ready: no card can come."""
        probe = self.probe
        if probe is None or not model_ready:
            return
        deadline = time.perf_counter() + CARD_WAIT_SECONDS
        while True:
            if not probe.awaiting_cards() or time.perf_counter() >= deadline:
                return
            await asyncio.sleep(0.05)

    # --- the learned detector's counters ------------------------------------------------------
    async def model_statuses(self) -> list[Status]:
        """Each worker's /readyz `screening_model` (None where it has none)."""
        async def status(port: int) -> Status:
            try:
                _status, _head, body = await _http_get(port, "/readyz")
            except OSError:
                return None
            return status_from_readyz(body)

        return list(await asyncio.gather(*(status(port) for port in self.ports)))

    async def _model_statuses_after(self, before: list[Status], stored: int) -> list[Status]:
        """/readyz once the model has read every message the load stored, at most
        CATCH_UP_SECONDS after the drain: it reads each message after delivering it."""
        deadline = time.perf_counter() + CATCH_UP_SECONDS
        while True:
            after = await self.model_statuses()
            if (not any_ready(after) or handled_since(before, after) >= stored
                    or time.perf_counter() >= deadline):
                return after
            await asyncio.sleep(0.2)

    # --- the load -----------------------------------------------------------------------
    async def run_load(self) -> tuple[Window, int, float]:
        """Senders post on an absolute schedule for the duration; then the drain. Returns the
        load window, deliveries received within it, and the seconds the drain took."""
        options = self.options
        for member in self.members:
            if not member.failure:
                self.receivers_by_room[member.room] = (
                    self.receivers_by_room.get(member.room, 0) + 1)
        senders = self.senders()
        per_sender = int(options.duration * options.rate) + 1
        generator = BodyGenerator(options.body_chars, seed=options.seed)
        self._bodies = iter([generator.next_body() for _ in range(per_sender * len(senders))])
        interval = 1 / options.rate
        start = time.perf_counter() + START_DELAY
        end = start + options.duration
        tasks = [asyncio.create_task(self._send_on_schedule(
            member, member.ws, start + interval * number / len(senders), end, interval))
            for number, member in enumerate(senders) if member.ws is not None]
        probe = self.probe_member
        if probe is not None and probe.ws is not None and not probe.failure:
            tasks.append(asyncio.create_task(self._send_probes(probe.ws, start, end)))
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        before = self._snapshot()
        await asyncio.gather(*tasks)
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        window = self._window(before)
        in_window = self.tally.deliveries
        drain = await self._drain()
        return window, in_window, drain

    async def _send_on_schedule(self, member: Member, ws: ClientConnection, first: float,
                                end: float, interval: float) -> None:
        tally, clock = self.tally, time.perf_counter
        for number, due in _schedule(first, end, interval):
            await _sleep_until(due)
            client_id = f"{self.tag}-{member.sender}-{number}"
            text = json.dumps({"type": "send", "client_id": client_id,
                               "body": next(self._bodies)})
            now = clock()
            tally.send_lag.append(now - due)
            tally.sent_at[client_id] = now
            tally.origin[client_id] = (member.room, member.sender, number)
            if not self.hearth:  # no acks: every frame written to an open socket counts
                tally.expected += self.receivers_by_room[member.room]
            try:
                await ws.send(text)
            except ConnectionClosed:
                tally.send_failures += 1
                return
            tally.send_wait.append(clock() - now)

    async def _drain(self) -> float:
        """Until every accepted message reached every receiver, or nothing came for
        --drain seconds, or --drain-max passed."""
        options, tally = self.options, self.tally
        started = time.perf_counter()
        tally.last_activity = max(tally.last_activity, started)
        while True:
            now = time.perf_counter()
            pending = len(tally.sent_at) - len(tally.acked) - len(tally.refused)
            complete = tally.deliveries >= tally.expected and (not self.hearth or pending <= 0)
            if (complete or now - tally.last_activity >= options.drain
                    or now - started >= options.drain_max):
                return now - started
            await asyncio.sleep(0.05)

    # --- measuring ----------------------------------------------------------------------
    def _snapshot(self) -> tuple[float, list[float], float]:
        return time.perf_counter(), self.sampler.cpu(), time.process_time()

    def _window(self, before: tuple[float, list[float], float]) -> Window:
        wall, server, client = before
        now_wall, now_server, now_client = self._snapshot()
        return Window(seconds=now_wall - wall,
                      server_cpu=[b - a for a, b in zip(server, now_server, strict=True)],
                      client_cpu=now_client - client)

    async def hold(self) -> tuple[int, int]:
        """Keep every socket open for --hold seconds; then how many are still open, and how
        many heard a heartbeat meanwhile."""
        beats = {member.index: member.heartbeats for member in self.members}
        await asyncio.sleep(self.options.hold)
        still_open = [m for m in self.members if m.ws is not None and not m.failure
                      and not m.closed and m.ws.state is State.OPEN]
        heard = sum(1 for m in still_open if m.heartbeats > beats[m.index])
        return len(still_open), heard

    async def close_all(self) -> int:
        """Close every socket; returns how many had closed before we closed them."""
        closed_early = sum(1 for m in self.members if m.ws is not None and not m.failure
                           and m.closed)
        everyone = self.members + ([self.probe_member] if self.probe_member else [])
        sockets = [m.ws for m in everyone if m.ws is not None]
        await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in sockets),
                                              return_exceptions=True), 120)
        readers = [m.reader for m in everyone if m.reader is not None]
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        return closed_early

    async def run(self, sessions_method: str, setup_seconds: float) -> LoadOutcome:
        sampler = self.sampler
        sampler.start()
        sessions_seconds = 0.0
        if self.hearth and sessions_method == "http":
            sessions_seconds = await self.http_sessions()
        elif self.hearth:
            self.use_cookies(self.cookies)
        rss_before = sampler.sample()
        before = self._snapshot()
        first, last = await self.connect_all()
        connect_window = self._window(before)
        await asyncio.sleep(SETTLE_SECONDS)
        rss_after = sampler.sample()
        load_window, in_window, drain = None, 0, 0.0
        redis_cpu: float | None = None
        model_before: list[Status] = []
        model_after: list[Status] = []
        stored = 0
        if self.options.has_load:
            await self.join_probe()  # after the connect figures: it is none of theirs
            await self.accept_rules()
            if self.hearth:
                model_before = await self.model_statuses()
            redis_before = cpu_seconds(sampler.redis_pid) if sampler.redis_pid else 0.0
            load_window, in_window, drain = await self.run_load()
            if sampler.redis_pid:
                redis_cpu = (cpu_seconds(sampler.redis_pid) - redis_before) / load_window.seconds
            if self.hearth:
                # An older checkout's /readyz says nothing of the model: a card may come.
                await self._wait_for_cards(any_ready(model_before) or all(
                    status is None for status in model_before))
                stored = len(self.tally.acked) + (len(self.probe.seq_of) if self.probe else 0)
                model_after = await self._model_statuses_after(model_before, stored)
        open_after = heard = 0
        if self.options.hold > 0:
            open_after, heard = await self.hold()
        await sampler.stop()
        outcome = LoadOutcome(
            target=self.target, sessions_method=sessions_method if self.hearth else "none",
            sessions_seconds=sessions_seconds, setup_seconds=setup_seconds,
            members=self.members, connect_started=first, connect_ended=last,
            connect_window=connect_window, rss_before=rss_before, rss_after=rss_after,
            rss_peak=sampler.peak, rss_peak_total=sampler.peak_total,
            redis_rss_peak=sampler.redis_peak, redis_cpu_load=redis_cpu, tally=self.tally,
            load_window=load_window, deliveries_in_window=in_window, drain_seconds=drain,
            receivers_by_room=dict(self.receivers_by_room), hold_seconds=self.options.hold,
            open_after_hold=open_after, heartbeat_after_hold=heard, closed_early=0,
            model_before=model_before, model_after=model_after, stored_messages=stored,
            probe=self.probe)
        outcome.closed_early = await self.close_all()
        return outcome


def _schedule(first: float, end: float, interval: float) -> Iterator[tuple[int, float]]:
    """(number, due time) of each send on an absolute schedule, from `first` until `end`."""
    for number in itertools.count():
        due = first + number * interval
        if due >= end:
            return
        yield number, due


async def _sleep_until(due: float) -> None:
    delay = due - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def _http_get(port: int, path: str, method: str = "GET") -> tuple[str, str, bytes]:
    """A request without a body over plain HTTP/1.1, one connection: the status, the head
    and the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "User-Agent: hearth-fanout-bench\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
    raw_head, _, body = response.partition(b"\r\n\r\n")
    head = raw_head.decode("latin-1")
    return (head.split(" ", 2)[1] if " " in head else "?"), head, body


async def _session_cookie(port: int) -> str:
    """Join like a room page's script does (a page view makes no member) and return the
    session cookie it sets."""
    path = "/me/join/"
    status, head, _body = await _http_get(port, path, method="POST")
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        cookie = value.strip().split(";", 1)[0]
        if name.lower() == "set-cookie" and cookie.startswith(f"{SESSION_COOKIE}="):
            return cookie.partition("=")[2]
    raise RuntimeError(f"POST {path} (HTTP {status}) set no {SESSION_COOKIE} cookie")
