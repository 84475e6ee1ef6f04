"""What the chaos run starts and breaks: a private redis-server and a private PostgreSQL
cluster on fixed free ports (so each can come back where the workers expect it), and two
Hearth workers sharing them, all on loopback or each in its own network namespace
(bench/chaos/network.py). Everything here is started by this process and stopped by it."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.chaos.network import LOOPBACK, Place
from bench.fanout.options import PROJECT_ROOT
from bench.fanout.servers import (
    LIFTED_LIMITS,
    Process,
    free_port,
    redis_answers,
    start,
    wait_until_healthy,
)

READY_TIMEOUT = 30.0


def _wait_for_redis(process: Process) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not redis_answers(process.port, process.host):
        if process.popen.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start (see {process.log})")
        time.sleep(0.05)


@dataclass
class PrivateRedis:
    """A redis-server of our own, without persistence: a restart forgets everything, as a
    replaced Redis host would (the channel layer's group memberships included)."""

    work_dir: Path
    place: Place = LOOPBACK
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.place.address}:{self.port}/0"

    def start(self) -> None:
        program = shutil.which("redis-server")
        if program is None:
            raise RuntimeError("redis-server is not installed")
        self.process = start("redis", self.place.wrap(
                                 [program, "--port", str(self.port),
                                  "--bind", self.place.address, "--save", "",
                                  "--appendonly", "no", "--dir", str(self.work_dir),
                                  # Only our own namespaces can reach it there; off loopback
                                  # protected mode would refuse the workers.
                                  "--protected-mode",
                                  "no" if self.place.netns else "yes"]),
                             cwd=self.work_dir, env=dict(os.environ),
                             log=self.work_dir / "redis.log", port=self.port, cpus=None,
                             host=self.place.address)
        _wait_for_redis(self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster made with initdb in our work directory, run as the `postgres` user
    when we are root (PostgreSQL refuses to run as root). Never the machine's own server."""

    work_dir: Path
    place: Place = LOOPBACK
    port: int = field(default_factory=free_port)
    bin_dir: Path = field(default_factory=lambda: _postgres_bin())

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "pgdata"

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.place.address}:{self.port}/hearth"

    def init(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.work_dir.parent.chmod(0o711)  # our own temp dir: let `postgres` through
            shutil.chown(self.work_dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        if self.place.netns:
            # initdb trusts loopback only; in its namespace the workers come from the subnet.
            with (self.data_dir / "pg_hba.conf").open("a") as hba:
                hba.write("host all all samenet trust\n")
        self.start()
        self._run("createdb", "-h", self.place.address, "-p", str(self.port), "-U", "postgres",
                  "hearth")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.work_dir / "pg.log"),
                  "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.work_dir} -c listen_addresses={self.place.address} "
                  "-c fsync=off -c max_connections=200", "start")

    def restart(self) -> None:
        """Stop (fast: sessions cut) and start again. Not `pg_ctl restart`: that forgets the
        log file, and the server would hold our output pipe open."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")
        self.start()

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop",
                      check=False)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        command = self.place.wrap(command)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              check=False, cwd=self.work_dir)
        if check and done.returncode:
            raise RuntimeError(f"{program} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL server programs under /usr/lib/postgresql")
    return found[-1].parent


@dataclass
class Workers:
    """Hearth workers on fixed ports, so a killed one comes back at the same address."""

    work_dir: Path
    env: dict[str, str]
    ports: list[int]
    places: list[Place]
    processes: list[Process] = field(default_factory=list)

    def start_all(self) -> None:
        for index in range(len(self.ports)):
            self.processes.append(self._start(index, setup=index == 0))

    def _start(self, index: int, *, setup: bool) -> Process:
        place = self.places[index]
        command = [sys.executable, "manage.py", "serve", "--host", place.address,
                   "--port", str(self.ports[index]), "--server", "uvicorn"]
        if not setup:
            command.append("--no-setup")
        process = start(f"hearth worker {index}", place.wrap(command), cwd=PROJECT_ROOT,
                        env=self.env, log=self.work_dir / f"hearth-{index}.log",
                        port=self.ports[index], cpus=None, host=place.address)
        wait_until_healthy(process, None)
        return process

    def kill(self, index: int) -> None:
        """kill -9: no shutdown, no close frames; the sockets just die."""
        popen = self.processes[index].popen
        os.kill(popen.pid, signal.SIGKILL)
        popen.wait(timeout=15)

    def restart(self, index: int) -> None:
        self.processes[index] = self._start(index, setup=False)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def manage(self, *args: str) -> None:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_ROOT,
                              env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)
        if done.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed: {done.stderr[-2000:]}")


def hearth_env(work_dir: Path, *, database_url: str, redis_url: str,
               heartbeat_seconds: float, hosts: list[str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "SECRET_KEY": f"chaos-{secrets.token_hex(16)}",
        "HEARTH_STATE_DIR": str(work_dir / "state"),
        "HEARTH_CHANNEL_PREFIX": f"chaos-{secrets.token_hex(4)}",
        "HEARTH_HEARTBEAT_SECONDS": f"{heartbeat_seconds:g}",
        # Plain chat bodies: the learned detector is not what this run measures.
        "HEARTH_SCREENING_MODEL": "false",
        "DEBUG": "false", "PYTHONUNBUFFERED": "1", **LIFTED_LIMITS,
        "ALLOWED_HOSTS": ",".join(hosts),
        # Every member connects from one address, outside loopback when namespaced, and
        # reconnects after every fault: per-address limits would refuse the run itself.
        "HEARTH_NEW_SESSIONS_PER_ADDRESS": "0", "HEARTH_SOCKET_OPENS_PER_ADDRESS": "0",
    })
    return env
