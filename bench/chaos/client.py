"""Members as the real client behaves: reconnect with backoff after any close, `resume` from the
last contiguous seq after every welcome and whenever a heartbeat or a message shows a gap, keep
each message in an outbox until its ack (resending it, same client_id, after a reconnect), and
treat 2.5 silent heartbeats as a dead connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

SESSION_COOKIE = "hearth_session"
DEAD_AFTER_HEARTBEATS = 2.5  # docs/protocol.md: `heartbeat`
GAP_GRACE_SECONDS = 0.5  # broadcasts from two workers may cross: a gap must last to count
BACKOFF = (0.1, 0.2, 0.5, 1.0)


@dataclass
class Sent:
    client_id: str
    sender: int
    sent_at: float  # first written to a socket
    acked_at: float | None = None
    seq: int | None = None
    refused: str = ""


@dataclass
class Received:
    seq: int
    client_id: str
    at: float
    replayed: bool = False  # came in a `resume` replay, not as a live broadcast


@dataclass(eq=False)
class Member:
    index: int
    worker: int
    slug: str
    port: int
    cookie: str
    heartbeat: float
    host: str = "127.0.0.1"
    ws: ClientConnection | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    contiguous: int = -1  # every seq up to this one is accounted for; -1 before the welcome
    received: dict[int, Received] = field(default_factory=dict)
    ids_seen: dict[str, set[int]] = field(default_factory=dict)  # client_id -> seqs
    seq_frames_repeated: int = 0  # removed by de-duplicating on seq
    live_frames: list[tuple[float, str]] = field(default_factory=list)  # (arrived, client_id)
    out_of_order: int = 0
    max_live_seq: int = 0
    replaying: bool = False
    last_frame: float = 0.0
    reconnects: int = 0
    acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    send_times: list[float] = field(default_factory=list)
    stopping: bool = False

    # --- the connection loop ----------------------------------------------------------------
    async def stay_connected(self) -> None:
        attempt = 0
        while not self.stopping:
            try:
                ws = await connect(
                    f"ws://{self.host}:{self.port}/ws/rooms/{self.slug}/",
                    origin=Origin(f"http://{self.host}:{self.port}"),
                    additional_headers={"Cookie": f"{SESSION_COOKIE}={self.cookie}"},
                    compression=None, ping_interval=None, close_timeout=2, open_timeout=10)
            except Exception:  # refused, reset, timed out, worker not up yet: try again
                await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                attempt += 1
                continue
            attempt = 0
            self.ws = ws
            self.last_frame = time.perf_counter()
            watchdog = asyncio.create_task(self._watch(ws))
            try:
                await self._read(ws)
            finally:
                watchdog.cancel()
                self.connected.clear()
                self.ws = None
                self.replaying = False
                for future in self.acks.values():
                    if not future.done():
                        future.set_result({"type": "closed"})  # the sender resends
            if not self.stopping:
                self.reconnects += 1

    async def _watch(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.heartbeat / 2)
            if time.perf_counter() - self.last_frame > DEAD_AFTER_HEARTBEATS * self.heartbeat:
                await ws.close()
                return

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                now = self.last_frame = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    self._on_message(frame, now)
                elif kind == "ack" or (kind == "error" and frame.get("client_id")):
                    future = self.acks.get(str(frame.get("client_id")))
                    if future is not None and not future.done():
                        future.set_result(frame)
                elif kind == "error":  # a refused resume (say, rate_limited): try again later
                    self.replaying = False
                elif kind == "heartbeat":
                    if int(frame.get("head_seq", 0)) > self.contiguous:
                        await self._resume(ws)
                elif kind == "resumed":
                    self.replaying = False
                    self._advance(int(frame["through_seq"]))
                    if frame.get("has_more"):
                        await self._resume(ws)
                elif kind == "welcome":
                    await self._on_welcome(ws, frame)

    async def _on_welcome(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        head = int(frame.get("head_seq", 0))
        if self.contiguous < 0:
            self.contiguous = self.max_live_seq = head
        rules = frame.get("rules") or {}
        if rules and not rules.get("accepted"):
            await ws.send(json.dumps({"type": "accept_rules", "version": rules["version"]}))
        if head > self.contiguous:
            await self._resume(ws)
        self.connected.set()

    async def _resume(self, ws: ClientConnection) -> None:
        if self.replaying:
            return
        self.replaying = True
        await ws.send(json.dumps({"type": "resume", "after_seq": self.contiguous}))

    def _on_message(self, frame: dict[str, Any], now: float) -> None:
        seq, client_id = int(frame["seq"]), str(frame.get("client_id", ""))
        if not self.replaying:
            self.live_frames.append((now, client_id))
        if seq in self.received:
            self.seq_frames_repeated += 1
            return
        if not self.replaying:
            if seq < self.max_live_seq:
                self.out_of_order += 1
            self.max_live_seq = max(self.max_live_seq, seq)
        self.received[seq] = Received(seq=seq, client_id=client_id, at=now,
                                      replayed=self.replaying)
        self.ids_seen.setdefault(client_id, set()).add(seq)
        self._advance(self.contiguous)
        if seq > self.contiguous + 1:
            asyncio.get_running_loop().call_later(GAP_GRACE_SECONDS, self._gap_check,
                                                  self.contiguous)

    def _gap_check(self, was: int) -> None:
        ws = self.ws
        if ws is not None and self.contiguous == was and not self.replaying:
            asyncio.get_running_loop().create_task(self._resume_quietly(ws))

    async def _resume_quietly(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._resume(ws)

    def _advance(self, through: int) -> None:
        self.contiguous = max(self.contiguous, through)
        while self.contiguous + 1 in self.received:
            self.contiguous += 1

    # --- sending ------------------------------------------------------------------------------
    async def send_until_acked(self, sent: Sent, body: str) -> None:
        """Resend with the same client_id after every reconnect or silence, until an ack (or
        a refusal) comes, or the run stops."""
        frame = json.dumps({"type": "send", "client_id": sent.client_id, "body": body})
        while not self.stopping:
            await self.connected.wait()
            ws = self.ws
            if ws is None:
                continue
            future = asyncio.get_running_loop().create_future()
            self.acks[sent.client_id] = future
            try:
                now = time.perf_counter()
                await ws.send(frame)
                self.send_times.append(now)
                answer = await asyncio.wait_for(future, DEAD_AFTER_HEARTBEATS * self.heartbeat)
            except (ConnectionClosed, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            finally:
                self.acks.pop(sent.client_id, None)
            if answer.get("type") == "closed":
                continue
            if answer.get("type") == "ack":
                sent.acked_at, sent.seq = time.perf_counter(), int(answer["seq"])
            else:
                sent.refused = str(answer.get("code", "?"))
            return

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


async def session_cookie(port: int, host: str = "127.0.0.1", path: str = "/me/join/") -> str:
    """Join like a room page's script does (a page view makes no member) and keep the session
    cookie it sets."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        head = (await reader.read()).partition(b"\r\n\r\n")[0].decode("latin-1")
    finally:
        writer.close()
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        cookie = value.strip().split(";", 1)[0]
        if name.lower() == "set-cookie" and cookie.startswith(f"{SESSION_COOKIE}="):
            return cookie.partition("=")[2]
    raise RuntimeError(f"POST {path} set no {SESSION_COOKIE} cookie: {head[:200]}")
