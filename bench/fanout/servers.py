"""Starting what a target needs, on free ports, and stopping it again: Hearth workers
(`manage.py serve`), the reference chat (daphne or uvicorn), a private redis-server, a scratch
PostgreSQL database."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.fanout.options import PROJECT_ROOT, Options
from bench.fanout.procstat import pin

# Hearth's per-member limits (docs/protocol.md), lifted so the schedule, not a token bucket,
# decides the load: a rate-limited send here is a broken setup.
LIFTED_LIMITS = {
    "HEARTH_SEND_BURST": "1000000", "HEARTH_SEND_PER_SECOND": "1000000",
    "HEARTH_READ_BURST": "1000000", "HEARTH_READ_PER_SECOND": "1000000",
    "HEARTH_REACTION_BURST": "1000000", "HEARTH_REACTION_PER_SECOND": "1000000",
}
# Lines in a server log that mean something went wrong.
PROBLEM_MARKERS = ("Traceback", "Exception inside application", " ERROR ", " CRITICAL ")
HEALTH_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log: Path
    host: str = "127.0.0.1"  # the address it listens on

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=15)


@dataclass
class Deployment:
    """Everything serving one target."""

    target: str
    workers: list[Process] = field(default_factory=list)
    redis: Process | None = None

    def base_url(self, worker: int) -> str:
        return f"http://127.0.0.1:{self.workers[worker].port}"

    def stop(self) -> None:
        for process in self.workers:
            process.stop()
        if self.redis is not None:
            self.redis.stop()

    def log_problems(self) -> list[str]:
        lines: list[str] = []
        for process in self.workers:
            if process.log.exists():
                lines.extend(f"{process.name}: {line}"
                             for line in process.log.read_text(errors="replace").splitlines()
                             if any(marker in line for marker in PROBLEM_MARKERS))
        return lines


def start(name: str, command: list[str], *, cwd: Path, env: dict[str, str], log: Path,
          port: int, cpus: frozenset[int] | None, host: str = "127.0.0.1") -> Process:
    with log.open("ab") as out:
        popen = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                                 stderr=subprocess.STDOUT)
    pin(popen.pid, cpus)  # at once, while the child has one thread
    return Process(name=name, popen=popen, port=port, log=log, host=host)


def wait_until_healthy(process: Process, cpus: frozenset[int] | None) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited early:\n{_tail(process.log)}")
        connection = http.client.HTTPConnection(process.host, process.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                pin(process.pid, cpus)  # and every thread it started since
                return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"{process.name} not healthy in {HEALTH_TIMEOUT:g}s:\n"
                       f"{_tail(process.log)}")


def _tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- Redis and PostgreSQL ---------------------------------------------------------------------

def start_own_redis(work_dir: Path, cpus: frozenset[int] | None) -> Process:
    program = shutil.which("redis-server")
    if program is None:
        raise RuntimeError("--own-redis: redis-server is not installed")
    port = free_port()
    process = start("redis", [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(work_dir)],
                    cwd=work_dir, env=dict(os.environ), log=work_dir / "redis.log", port=port,
                    cpus=cpus)
    deadline = time.monotonic() + 20
    while not redis_answers(port):
        if process.popen.poll() is not None or time.monotonic() > deadline:
            process.stop()
            raise RuntimeError(f"redis-server did not start:\n{_tail(process.log)}")
        time.sleep(0.05)
    return process


def redis_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def scratch_postgres(base_url: str) -> Iterator[str]:
    """A fresh database on base_url's server, dropped afterwards (as tests/system does)."""
    import psycopg

    name = f"hearth_bench_{secrets.token_hex(6)}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(base_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Hearth ---------------------------------------------------------------------------------

def hearth_env(options: Options, work_dir: Path, database_url: str,
               redis_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": f"bench-{secrets.token_hex(16)}",
        "HEARTH_STATE_DIR": str(work_dir / "state"),
        "HEARTH_CHANNEL_PREFIX": f"bench-{secrets.token_hex(4)}",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
        **LIFTED_LIMITS,
    })
    if redis_url:
        env["REDIS_URL"] = redis_url
    if options.heartbeat_seconds is not None:
        env["HEARTH_HEARTBEAT_SECONDS"] = f"{options.heartbeat_seconds:g}"
    return env


def _serve_takes_server_flag(hearth_dir: Path) -> bool:
    """Older checkouts (before uvicorn) have a daphne-only `serve` without --server."""
    serve = Path(hearth_dir) / "hearth" / "management" / "commands" / "serve.py"
    return '"--server"' in serve.read_text(encoding="utf-8")


def start_hearth(options: Options, work_dir: Path, env: dict[str, str],
                 deployment: Deployment) -> None:
    """Worker 0 migrates and seeds the demo rooms; the others start with --no-setup."""
    for index in range(options.workers):
        port = free_port()
        command = [sys.executable, "manage.py", "serve", "--port", str(port)]
        if index:
            command.append("--no-setup")
        if _serve_takes_server_flag(options.hearth_dir):
            command += ["--server", options.server]
        elif options.server != "daphne":
            raise RuntimeError("this checkout's `serve` runs daphne only")
        process = start(f"hearth worker {index}", command, cwd=options.hearth_dir, env=env,
                        log=work_dir / f"hearth-{index}.log", port=port,
                        cpus=options.server_cpus)
        deployment.workers.append(process)
        wait_until_healthy(process, options.server_cpus)


PROBE_ROOM = "bench-probe-room"


@dataclass(frozen=True)
class HearthSetup:
    rooms: list[str]
    cookies: list[str]  # for --sessions direct, else empty
    seconds: float
    probe_room: str | None = None  # with --crisis-probe: its room, made like the others
    probe_cookie: str | None = None  # and, for --sessions direct, its member's session


def set_up_hearth(options: Options, env: dict[str, str]) -> HearthSetup:
    """Create the rooms (and direct sessions) with bench/fanout/hearth_setup.py, run inside
    Hearth's environment against the servers' database."""
    rooms = [f"bench-room-{index + 1}" for index in range(options.rooms)]
    probes = [PROBE_ROOM] if options.crisis_probe else []
    sessions = (options.connections + len(probes)) if options.sessions == "direct" else 0
    started = time.perf_counter()
    done = _in_hearth_env(options, env, "bench.fanout.hearth_setup", "--capacity",
                          str(options.members), "--sessions", str(sessions), *rooms, *probes)
    if done.returncode:
        raise RuntimeError(f"setting up rooms failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    cookies = answer["sessions"]
    return HearthSetup(rooms=answer["rooms"][:options.rooms],
                       cookies=cookies[:options.connections],
                       seconds=time.perf_counter() - started,
                       probe_room=PROBE_ROOM if probes else None,
                       probe_cookie=cookies[options.connections] if probes and cookies else None)


def crisis_probe_texts(options: Options, env: dict[str, str]) -> list[str]:
    """The probe's messages, chosen by bench/fanout/probe_texts.py with the served checkout's
    rules and model; a clear error when none will do."""
    done = _in_hearth_env(options, env, "bench.fanout.probe_texts")
    if done.returncode:
        raise RuntimeError(done.stderr.strip()[-3000:]
                           or f"bench.fanout.probe_texts exited {done.returncode}")
    texts: list[str] = json.loads(done.stdout.strip().splitlines()[-1])["texts"]
    return texts


def _in_hearth_env(options: Options, env: dict[str, str], module: str,
                   *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=options.hearth_dir, capture_output=True, text=True, timeout=600, check=False,
        env={**env, "PYTHONPATH": os.pathsep.join([str(options.hearth_dir), str(PROJECT_ROOT)])})


# --- the reference chat -----------------------------------------------------------------------

def reference_env(work_dir: Path, redis_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "DATABASE_URL"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "bench.reference.settings",
        "PYTHONPATH": str(PROJECT_ROOT),
        "SECRET_KEY": f"bench-{secrets.token_hex(16)}",
        "PYTHONUNBUFFERED": "1",
        "REFERENCE_REDIS_URL": redis_url,
        "REFERENCE_CHANNEL_PREFIX": f"bench-ref-{secrets.token_hex(4)}",
    })
    return env


def start_reference(options: Options, work_dir: Path, env: dict[str, str],
                    deployment: Deployment) -> None:
    for index in range(options.workers):
        port = free_port()
        if options.reference_server == "uvicorn":
            command = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port",
                       str(port), "--lifespan", "off", "--log-level", "warning",
                       "bench.reference.asgi:application"]
        else:
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                       "bench.reference.asgi:application"]
        process = start(f"reference worker {index}", command, cwd=PROJECT_ROOT, env=env,
                        log=work_dir / f"reference-{index}.log", port=port,
                        cpus=options.server_cpus)
        deployment.workers.append(process)
        wait_until_healthy(process, options.server_cpus)
