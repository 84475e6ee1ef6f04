"""Real Hearth servers for system and browser tests: daphne processes on free ports, their own
database (a SQLite file, or a fresh PostgreSQL database when DATABASE_URL is set) and, when
asked, a shared Redis channel layer under a prefix of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import websockets
from websockets.typing import Origin

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SESSION_COOKIE = "hearth_session"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def scratch_database(tmp_path: Path) -> Iterator[str]:
    """A database URL of its own: a fresh PostgreSQL database when DATABASE_URL points at a
    PostgreSQL server, else a SQLite file under tmp_path."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'system.sqlite3'}"
        return
    import psycopg

    name = f"hearth_sys_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(base)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d |INFO:|WARNING:|Hearth is listening")


@dataclass
class Servers:
    ports: list[int]
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    server: str = "uvicorn"  # `manage.py serve --server`

    def http(self, worker: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[worker]}"

    def ws(self, path: str, worker: int = 0) -> str:
        return f"ws://127.0.0.1:{self.ports[worker]}{path}"

    def origin(self, worker: int = 0) -> str:
        return self.http(worker)

    def manage(self, *args: str) -> str:
        """Run a management command against the servers' database and settings."""
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_ROOT,
                              env=self.env, capture_output=True, text=True, timeout=120,
                              check=True)
        return done.stdout

    def shell(self, code: str) -> str:
        """Run Python in `manage.py shell` against the servers' database; its stdout."""
        return self.manage("shell", "--verbosity", "0", "-c", code)

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs if path.exists())

    def error_lines(self, limit: int = 200) -> str:
        """Each worker's tracebacks and ERROR lines, the last `limit` lines of them."""
        picked: list[str] = []
        for path in self.logs:
            if not path.exists():
                continue
            in_traceback = False
            for line in path.read_text(errors="replace").splitlines():
                starts = line.startswith("Traceback") or " ERROR " in line or "ERROR:" in line
                # A traceback runs on until the next log record (which starts with its date).
                in_traceback = starts or (in_traceback and not _LOG_RECORD.match(line))
                if in_traceback:
                    picked.append(f"{path.name}: {line}")
        return "\n".join(["-- worker errors --", *picked[-limit:]]) if picked else ""

    def start_worker(self, index: int) -> None:
        log = self.logs[index].open("ab")
        self.processes[index] = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--no-setup", "--port", str(self.ports[index]),
             "--server", self.server],
            cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_until_healthy(self.http(index), self.processes[index], self.logs[index])

    def stop_worker(self, index: int) -> None:
        process = self.processes[index]
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path,
                       timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not healthy in {timeout}s:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def run_servers(tmp_path: Path, *, workers: int = 1, redis_url: str | None = None,
                extra_env: dict[str, str] | None = None,
                server: str = "uvicorn") -> Iterator[Servers]:
    with scratch_database(tmp_path) as database_url:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": f"system-test-{uuid.uuid4().hex}",
            "HEARTH_STATE_DIR": str(tmp_path / "state"),
            "HEARTH_CHANNEL_PREFIX": f"hearth-test-{uuid.uuid4().hex[:8]}",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        env.pop("REDIS_URL", None)
        if redis_url:
            env["REDIS_URL"] = redis_url
        servers = Servers(ports=[free_port() for _ in range(workers)], env=env, server=server)
        servers.manage("migrate", "--verbosity", "0")
        servers.manage("seed_demo_rooms")
        servers.processes = [None] * workers  # type: ignore[list-item]
        servers.logs = [tmp_path / f"worker-{i}.log" for i in range(workers)]
        try:
            for index in range(workers):
                servers.start_worker(index)
            yield servers
        except BaseException:
            # The test's own error says what the client saw; the workers' errors say why.
            print(servers.error_lines())
            raise
        finally:
            for index, process in enumerate(servers.processes):
                if process is not None and process.poll() is None:
                    servers.stop_worker(index)


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextlib.contextmanager
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own on a free port, which the test may stop (never the
    machine's shared one). Skipped (a failure in CI) without the redis-server program."""
    program = shutil.which("redis-server")
    if program is None:
        from tests.conftest import skip_or_fail

        skip_or_fail("redis-server is not installed; this test stops a Redis of its own")
    port = free_port()
    log = tmp_path / "redis.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(program), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)], stdout=out, stderr=subprocess.STDOUT)
    server = RedisServer(port=port, process=process, log=log)
    try:
        deadline = time.monotonic() + 20
        while not server.answers():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield server
    finally:
        server.stop()


# --- clients --------------------------------------------------------------------------------

def new_session_cookie(base: str) -> str:
    """Join like a newcomer's room page does (a page view makes no member) and return the
    session cookie it hands out."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(urllib.request.Request(f"{base}/me/join/", data=b"", method="POST"),
                     timeout=30) as response:
        response.read()
    for cookie in jar:
        if cookie.name == SESSION_COOKIE and cookie.value:
            return cookie.value
    raise AssertionError("joining did not set a session cookie")


async def new_session_cookies(base: str, count: int, concurrency: int = 16) -> list[str]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> str:
        async with semaphore:
            return await asyncio.to_thread(new_session_cookie, base)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def open_socket(servers: Servers, room: str, cookie: str | None, *, worker: int = 0,
                      origin: str | None = "same", headers: dict[str, str] | None = None,
                      **kwargs: Any) -> Any:
    """`headers` are extra handshake headers, such as the browser's Accept-Language."""
    headers = {**(headers or {}), **({"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {})}
    if origin == "same":
        origin = servers.origin(worker)
    return await websockets.connect(
        servers.ws(f"/ws/rooms/{room}/", worker),
        additional_headers=headers,
        origin=Origin(origin) if origin else None,
        open_timeout=60,
        **kwargs,
    )


async def next_frame(ws: Any, frame_type: str | None = None,
                     timeout: float = 5.0) -> dict[str, Any]:
    """The next frame (of `frame_type`, skipping others such as presence and heartbeat)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"no {frame_type or 'frame'} within {timeout}s")
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        if frame_type is None or frame["type"] == frame_type:
            return frame


async def send_frame(ws: Any, frame: dict[str, Any]) -> None:
    await ws.send(json.dumps(frame))
