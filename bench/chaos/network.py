"""The network of the `netsplit` fault: four network namespaces this run creates and removes.

    services (Redis, PostgreSQL; the bridge)  10.77.0.1
       |-- worker-0                              10.77.0.10
       |-- worker-1                              10.77.0.11
       `-- clients (this benchmark's own members) 10.77.0.2

Each host has one veth link to a bridge in the services namespace. Both ends of every link are
created inside our namespaces, so the machine's own namespace gets no interface, no address and
no route, and no packet leaves for any address but the ones given here. Cutting a worker's link
takes its bridge port down: packets vanish without a reset, as when a cable or a switch port
fails, so open TCP connections hang rather than close.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SUBNET_PREFIX = "10.77.0"
PREFIX_LENGTH = 24
BRIDGE = "br0"
IP = shutil.which("ip") or "/usr/sbin/ip"  # iproute2


@dataclass(frozen=True)
class Place:
    """Where a process runs: a network namespace (None: this process's own) and the address
    it listens on there."""

    address: str = "127.0.0.1"
    netns: str | None = None

    def wrap(self, command: list[str]) -> list[str]:
        """`ip netns exec` replaces itself with the command, so the pid is the command's."""
        return [IP, "netns", "exec", self.netns, *command] if self.netns else command


LOOPBACK = Place()


def netns_unavailable() -> str | None:
    """Why the namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    if not Path(IP).exists():
        return "needs iproute2's `ip`"
    return None


@dataclass
class SplitNetwork:
    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    created: list[str] = field(default_factory=list)

    def namespace(self, role: str) -> str:
        return f"hearth-chaos-{self.tag}-{role}"

    @property
    def services(self) -> Place:
        return Place(f"{SUBNET_PREFIX}.1", self.namespace("services"))

    @property
    def clients(self) -> Place:
        return Place(f"{SUBNET_PREFIX}.2", self.namespace("clients"))

    def worker(self, index: int) -> Place:
        return Place(f"{SUBNET_PREFIX}.{10 + index}", self.namespace(f"worker-{index}"))

    def create(self, workers: int) -> None:
        hub = self.services.netns
        assert hub is not None  # noqa: S101
        self._add_namespace(hub)
        _ip("-n", hub, "link", "add", BRIDGE, "type", "bridge")
        _ip("-n", hub, "addr", "add", f"{self.services.address}/{PREFIX_LENGTH}", "dev", BRIDGE)
        _ip("-n", hub, "link", "set", BRIDGE, "up")
        hosts = {"clients": self.clients, **{f"worker-{i}": self.worker(i)
                                             for i in range(workers)}}
        for port_name, place in hosts.items():
            assert place.netns is not None  # noqa: S101
            self._add_namespace(place.netns)
            # Both ends made where they live: nothing appears in the machine's namespace.
            _ip("link", "add", "eth0", "netns", place.netns, "type", "veth",
                "peer", "name", port_name, "netns", hub)
            _ip("-n", hub, "link", "set", port_name, "master", BRIDGE)
            _ip("-n", hub, "link", "set", port_name, "up")
            _ip("-n", place.netns, "addr", "add", f"{place.address}/{PREFIX_LENGTH}",
                "dev", "eth0")
            _ip("-n", place.netns, "link", "set", "eth0", "up")

    def _add_namespace(self, name: str) -> None:
        _ip("netns", "add", name)
        self.created.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def cut(self, worker: int) -> None:
        _ip("-n", self.namespace("services"), "link", "set", f"worker-{worker}", "down")

    def restore(self, worker: int) -> None:
        _ip("-n", self.namespace("services"), "link", "set", f"worker-{worker}", "up")

    def remove(self) -> None:
        """Deleting a namespace deletes the veth ends in it, and so their peers."""
        while self.created:
            subprocess.run([IP, "netns", "del", self.created.pop()], capture_output=True,
                           check=False, timeout=30)


def _ip(*args: str) -> None:
    done = subprocess.run([IP, *args], capture_output=True, text=True, check=False,
                          timeout=30)
    if done.returncode:
        raise RuntimeError(f"ip {' '.join(args)} failed: {done.stderr.strip()}")
