"""The netsplit fault's network (bench/chaos/network.py), made for real: namespaces that reach
each other over the bridge, a cut that silences exactly one worker's link and a restore that
brings it back, and nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.chaos.network import IP, LOOPBACK, Place, SplitNetwork, netns_unavailable
from bench.chaos.run import parse

PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()
except OSError as error:
    print(type(error).__name__)
    sys.exit(1)
"""

needs_netns = pytest.mark.skipif(netns_unavailable() is not None
                                 and os.environ.get("CI") != "true",
                                 reason=f"{netns_unavailable()}")


def _namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                            check=True).stdout
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def _reaches(source: Place, target: Place, port: int, probe: Path, timeout: float = 1.0) -> bool:
    done = subprocess.run(source.wrap([sys.executable, str(probe), target.address, str(port),
                                       str(timeout)]),
                          capture_output=True, text=True, timeout=30, check=False)
    return done.returncode == 0


def _listen(place: Place, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(place.wrap([sys.executable, "-m", "http.server", "--bind",
                                          place.address, str(port)]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return server


@pytest.mark.system
@needs_netns
def test_a_cut_silences_one_worker_link_until_it_is_restored(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    network = SplitNetwork()
    servers: list[subprocess.Popen[bytes]] = []
    try:
        network.create(2)
        assert set(network.created) <= _namespaces()
        servers = [_listen(network.worker(0), 8080), _listen(network.worker(1), 8080),
                   _listen(network.services, 8080)]
        clients = network.clients
        assert _reaches(clients, network.worker(1), 8080, probe)
        assert _reaches(network.worker(1), network.services, 8080, probe)

        network.cut(1)
        assert not _reaches(clients, network.worker(1), 8080, probe)
        assert not _reaches(network.worker(1), network.services, 8080, probe)
        assert _reaches(clients, network.worker(0), 8080, probe)  # only worker 1 is cut
        assert _reaches(network.worker(0), network.services, 8080, probe)

        network.restore(1)
        assert _reaches(clients, network.worker(1), 8080, probe, timeout=5.0)
        assert _reaches(network.worker(1), network.services, 8080, probe, timeout=5.0)
    finally:
        for server in servers:
            server.kill()
            server.wait()
        made = list(network.created)
        network.remove()
    assert not set(made) & _namespaces()


@pytest.mark.system
@needs_netns
def test_the_machine_namespace_gets_no_interface(tmp_path):
    before = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True,
                            check=True).stdout
    network = SplitNetwork()
    try:
        network.create(2)
        during = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True,
                                check=True).stdout
    finally:
        network.remove()
    assert during == before


def test_loopback_runs_commands_as_they_are():
    assert LOOPBACK.wrap(["redis-server"]) == ["redis-server"]
    assert Place("10.77.0.1", "ns").wrap(["redis-server"]) == [
        IP, "netns", "exec", "ns", "redis-server"]


@pytest.mark.parametrize("argv", [
    ["--cut-seconds", "0"], ["--redis-outage", "-1"], ["--faults", "netsplit,typo"],
    ["--faults", ""],
])
def test_bad_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(argv)
    assert stopped.value.code == 2
    assert "error:" in capsys.readouterr().err
