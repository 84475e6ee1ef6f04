"""The production layout in deploy/nginx, in front of two real workers sharing Redis.

nginx runs in the foreground from a config written here that includes the very files an
operator installs: deploy/nginx/hearth-http.conf (http context) and
deploy/nginx/hearth-locations.conf (every location), with the upstream block taken from
deploy/nginx/hearth.conf. Members talk over websockets through it; the TLS site file itself is
checked with `nginx -t` and served once with a throwaway certificate.

Needs nginx (Debian: nginx-light) and REDIS_URL; skipped without them, a failure when CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import grp
import http.client
import json
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.typing import Origin

from tests.conftest import require_env, skip_or_fail
from tests.system.client import Chatter, handshake_status, http_request, join, set_cookies, unique
from tests.system.servers import (
    PROJECT_ROOT,
    SESSION_COOKIE,
    Servers,
    free_port,
    new_session_cookies,
    next_frame,
    run_servers,
)

pytestmark = [pytest.mark.system, pytest.mark.redis]

DEPLOY_NGINX = PROJECT_ROOT / "deploy" / "nginx"
SITE_CONF = DEPLOY_NGINX / "hearth.conf"
TLS_HOST = "chat.example.org"  # the placeholder host name in hearth.conf
WORKER_ENV = {
    # nginx serves /static/; a worker answering it would hide a broken alias.
    "SERVE_STATIC": "false",
    "ALLOWED_HOSTS": f"127.0.0.1,localhost,{TLS_HOST}",
}
TIMEOUT = 10.0


# --- nginx ------------------------------------------------------------------------------------

def nginx_program() -> str:
    """Debian's nginx; /usr/sbin is often not on a non-root PATH."""
    program = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if program is None:
        skip_or_fail("nginx is not installed (apt-get install nginx-light); the deploy "
                     "test runs deploy/nginx in front of real workers")
        raise AssertionError("unreachable")  # skip_or_fail raises
    return program


def _http_context_preamble(program: str, directory: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf gives a site: mime types, temp paths we may write,
    and a default access log in the combined format (with addresses) our servers must
    override."""
    build = subprocess.run([program, "-V"], capture_output=True, text=True, check=True).stderr
    lines = []
    mime = Path("/etc/nginx/mime.types")
    if mime.exists():
        lines.append(f"include {mime};")
    else:
        lines.append("types { text/html html; text/css css; "
                     "application/javascript js; image/svg+xml svg; }")
    lines.append("default_type application/octet-stream;")
    lines.append(f"client_body_temp_path {directory / 'client_body'};")
    lines.append(f"proxy_temp_path {directory / 'proxy'};")
    lines.extend(f"{module}_temp_path {directory / module};"
                 for module in ("fastcgi", "uwsgi", "scgi")
                 if f"--without-http_{module}_module" not in build)
    lines.append(f"access_log {directory / 'default-access.log'};")
    return "\n    ".join(lines)


def main_conf(program: str, directory: Path, site: str) -> str:
    # As root, nginx would drop its workers to `nobody`, who cannot read pytest's tmp dirs.
    user = ""
    if os.geteuid() == 0:
        user = (f"user {pwd.getpwuid(os.getuid()).pw_name} "
                f"{grp.getgrgid(os.getgid()).gr_name};")
    return f"""
daemon off;
worker_processes 1;
{user}
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    {_http_context_preamble(program, directory)}
{site}
}}
"""


def production_upstream(worker_ports: list[int]) -> str:
    """hearth.conf's upstream block (balancing method and all), pointed at these workers."""
    match = re.search(r"^upstream hearth_workers \{.*?^\}", SITE_CONF.read_text(),
                      re.MULTILINE | re.DOTALL)
    assert match, "deploy/nginx/hearth.conf has no `upstream hearth_workers { … }` block"
    block = re.sub(r"^\s*server 127\.0\.0\.1:\d+;\n", "", match.group(0), flags=re.MULTILINE)
    assert not re.search(r"^\s*server ", block, re.MULTILINE), f"unexpected server line: {block}"
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in worker_ports)
    return block.replace("{\n", "{\n" + servers, 1)


def loopback_site(port: int, worker_ports: list[int], directory: Path, static_root: Path) -> str:
    """The plain-HTTP stand-in for hearth.conf's TLS server: same includes, same upstream."""
    return f"""
include {DEPLOY_NGINX / 'hearth-http.conf'};
{production_upstream(worker_ports)}
server {{
    listen 127.0.0.1:{port};
    server_name 127.0.0.1;
    access_log {directory / 'access.log'} hearth_private;
    set $hearth_static_root {static_root};
    include {DEPLOY_NGINX / 'hearth-locations.conf'};
}}
"""


@dataclass
class Nginx:
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace")
                         for path in (self.directory / "nginx.out", self.directory / "error.log")
                         if path.exists())


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running_nginx(program: str, directory: Path, site: str, ports: list[int]) -> Iterator[Nginx]:
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(main_conf(program, directory, site))
    with (directory / "nginx.out").open("ab") as out:
        process = subprocess.Popen([program, "-p", str(directory), "-c", str(conf)],
                                   stdout=out, stderr=subprocess.STDOUT)
    nginx = Nginx(directory, process)
    try:
        deadline = time.monotonic() + 20
        while not all(_answers(port) for port in ports):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start:\n{nginx.log_text()}")
            time.sleep(0.05)
        yield nginx
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def collect_static(directory: Path) -> Path:
    """`manage.py collectstatic` into a directory of the test's own. STATIC_ROOT is not an
    environment setting, so a two-line settings module moves it."""
    static_root = directory / "static"
    (directory / "deploy_test_settings.py").write_text(
        f"from hearth.settings import *  # noqa: F403\nSTATIC_ROOT = {str(static_root)!r}\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "deploy_test_settings",
           "PYTHONPATH": os.pathsep.join([str(directory), str(PROJECT_ROOT)]),
           "SECRET_KEY": "collectstatic-only", "HEARTH_STATE_DIR": str(directory / "state")}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                   cwd=PROJECT_ROOT, env=env, check=True, timeout=120)
    assert (static_root / "frontend" / "app.css").exists()
    return static_root


# --- the stack: two workers, Redis, nginx -------------------------------------------------------

@dataclass
class Stack:
    workers: Servers
    front: Servers  # the same workers, reached through nginx only
    nginx: Nginx
    static_root: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    program = nginx_program()
    redis_url = require_env("REDIS_URL", "the workers behind nginx share a Redis channel layer")
    tmp = tmp_path_factory.mktemp("deploy")
    static_root = collect_static(tmp)
    with run_servers(tmp, workers=2, redis_url=redis_url, extra_env=WORKER_ENV) as workers:
        port = free_port()
        site = loopback_site(port, workers.ports, tmp / "nginx", static_root)
        with running_nginx(program, tmp / "nginx", site, [port]) as nginx:
            yield Stack(workers, Servers(ports=[port], env=workers.env), nginx, static_root)
        log = workers.log_text()
        assert "Traceback" not in log, log[-5000:]


async def ws_log_lines(stack: Stack, path: str, count: int) -> list[str]:
    """Access-log lines of websockets on this path; nginx writes one when a socket closes."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        text = stack.nginx.access_log.read_text() if stack.nginx.access_log.exists() else ""
        lines = [line for line in text.splitlines() if f"GET {path} " in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        await asyncio.sleep(0.05)


def worker_port(line: str) -> int:
    match = re.search(r" worker=(\d+) ", line)
    assert match, f"no worker= in the access log line {line!r}"
    return int(match.group(1))


async def messages_from(chatter: Chatter, handle: str, count: int) -> list[dict[str, object]]:
    """The next `count` messages by `handle` (others, such as one's own, are passed over)."""
    found: list[dict[str, object]] = []
    while len(found) < count:
        message = await chatter.message()
        if message["handle"] == handle:
            found.append(message)
    return found


# --- through nginx ------------------------------------------------------------------------------

async def test_members_on_two_workers_talk_through_nginx(stack: Stack) -> None:
    slug = unique("proxied")
    stack.workers.manage("add_room", slug, "--title", "Through nginx")
    # Each member's anonymous session comes from a page fetched through nginx.
    cookies = await new_session_cookies(stack.front.http(), 2)
    alice = await join(stack.front, slug, cookies[0])
    # least_conn: Alice's socket is open on one worker, so Bob's goes to the other.
    bob = await join(stack.front, slug, cookies[1])
    try:
        acks = [await alice.send(f"from alice {n}") for n in range(3)]
        seqs = [int(ack["seq"]) for ack in acks]
        assert seqs == list(range(seqs[0], seqs[0] + 3))
        heard = await messages_from(bob, alice.handle, 3)
        assert [(m["seq"], m["body"]) for m in heard] == [
            (seq, f"from alice {n}") for n, seq in enumerate(seqs)]

        replies = [await bob.send(f"from bob {n}") for n in range(2)]
        heard = await messages_from(alice, bob.handle, 2)
        assert [(m["seq"], m["body"]) for m in heard] == [
            (int(ack["seq"]), f"from bob {n}") for n, ack in enumerate(replies)]
        assert int(replies[0]["seq"]) == seqs[-1] + 1
        # Everything Alice saw came in room order.
        seen = [int(f["seq"]) for f in alice.seen if f["type"] == "message"]
        assert seen == sorted(seen) and len(seen) == len(set(seen))
    finally:
        await alice.close()
        await bob.close()

    lines = await ws_log_lines(stack, f"/ws/rooms/{slug}/", 2)
    assert len(lines) == 2, lines
    assert {worker_port(line) for line in lines} == set(stack.workers.ports), lines
    assert all(" 101 " in line for line in lines), lines


async def test_probes_answer_through_nginx_and_per_worker(stack: Stack) -> None:
    for path in ("/healthz", "/readyz"):
        reply = await http_request(stack.front, "GET", path)
        assert reply.status == 200, (path, reply.body)
        assert json.loads(reply.body)["status"] == "ok"
    ready = json.loads((await http_request(stack.front, "GET", "/readyz")).body)
    assert (ready["database"], ready["channel_layer"]) == ("ok", "ok")
    for worker in range(2):
        assert (await http_request(stack.workers, "GET", "/readyz", worker=worker)).status == 200


async def test_static_files_come_from_nginx(stack: Stack) -> None:
    reply = await http_request(stack.front, "GET", "/static/frontend/app.css")
    assert reply.status == 200
    assert reply.body == (stack.static_root / "frontend" / "app.css").read_text()
    assert reply.headers["Content-Type"].startswith("text/css")
    assert "max-age=3600" in reply.headers["Cache-Control"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["ETag"]
    # The workers do not serve it (SERVE_STATIC=false): nginx answered from the collected root.
    direct = await http_request(stack.workers, "GET", "/static/frontend/app.css")
    assert direct.status == 404
    outside = await http_request(stack.front, "GET", "/static/../manage.py")
    assert outside.status in {400, 404}


async def test_the_origin_check_still_works_through_nginx(stack: Stack) -> None:
    slug = unique("origin")
    stack.workers.manage("add_room", slug, "--title", "Origins")
    [cookie] = await new_session_cookies(stack.front.http(), 1)
    assert await handshake_status(stack.front, slug, cookie, "http://evil.example") == 403
    assert await handshake_status(stack.front, slug, cookie, None) == 403
    # The worker's own address is another origin than the site's: nginx passed the Host on
    # with its port, and the check compared the Origin with it.
    worker_origin = stack.workers.origin(0)
    assert await handshake_status(stack.front, slug, cookie, worker_origin) == 403
    member = await join(stack.front, slug, cookie)  # the site's own origin
    await member.close()


async def test_the_access_log_names_no_client(stack: Stack) -> None:
    slug = unique("private")
    stack.workers.manage("add_room", slug, "--title", "Private")
    reply = await http_request(stack.front, "GET", "/?from=somewhere")
    assert reply.status == 200
    assert SESSION_COOKIE not in set_cookies(reply)  # looking makes no session
    cookie = set_cookies(await http_request(stack.front, "POST", "/me/join/"))[SESSION_COOKIE]
    member = await join(stack.front, slug, cookie, headers={"User-Agent": "CanaryBrowser/1.0"})
    client_port = int(member.ws.local_address[1])
    await member.close()
    assert await ws_log_lines(stack, f"/ws/rooms/{slug}/", 1)

    log = stack.nginx.access_log.read_text()
    assert 'GET / HTTP/1.1" 200' in log  # the page was logged, by path only
    for secret in ("127.0.0.1", "localhost", cookie, "CanaryBrowser", "from=somewhere",
                   f":{client_port}", SESSION_COOKIE):
        assert secret not in log, f"{secret!r} in the access log"
    # Debian's default access log (combined format, with addresses) got nothing of ours.
    default_log = stack.nginx.directory / "default-access.log"
    assert not default_log.exists() or default_log.read_text() == ""


async def test_nginx_sends_everyone_to_the_other_worker_when_one_stops(stack: Stack) -> None:
    slug = unique("failover")
    stack.workers.manage("add_room", slug, "--title", "Failover")
    stack.workers.stop_worker(0)
    try:
        for _ in range(4):  # least_conn tries the stopped worker too, then the other one
            assert (await http_request(stack.front, "GET", "/healthz")).status == 200
        cookies = await new_session_cookies(stack.front.http(), 2)
        first = await join(stack.front, slug, cookies[0])
        second = await join(stack.front, slug, cookies[1])
        try:
            ack = await first.send("still here")
            [heard] = await messages_from(second, first.handle, 1)
            assert heard["seq"] == ack["seq"]
        finally:
            await first.close()
            await second.close()
        lines = await ws_log_lines(stack, f"/ws/rooms/{slug}/", 2)
        assert {worker_port(line) for line in lines} == {stack.workers.ports[1]}, lines
    finally:
        stack.workers.start_worker(0)


# --- the TLS site file as shipped -----------------------------------------------------------------

# The operator's placeholders in hearth.conf and what the test puts there.
def tls_replacements(directory: Path, static_root: Path) -> dict[str, str]:
    return {
        "/opt/hearth/deploy/nginx/": f"{DEPLOY_NGINX}/",
        f"/etc/letsencrypt/live/{TLS_HOST}/fullchain.pem": str(directory / "cert.pem"),
        f"/etc/letsencrypt/live/{TLS_HOST}/privkey.pem": str(directory / "key.pem"),
        "/var/log/nginx/": f"{directory}/",
        "/var/www/html": str(directory / "acme"),
        "/opt/hearth/staticfiles": str(static_root),
    }


def render_tls_site(directory: Path, static_root: Path) -> str:
    text = SITE_CONF.read_text()
    for placeholder, value in tls_replacements(directory, static_root).items():
        assert placeholder in text, f"{placeholder} is gone from deploy/nginx/hearth.conf"
        text = text.replace(placeholder, value)
    return text


def self_signed_certificate(directory: Path) -> Path:
    """A throwaway certificate for TLS_HOST (cryptography comes with daphne's autobahn)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TLS_HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(TLS_HOST)]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return directory / "cert.pem"


def test_the_tls_site_file_passes_nginx_t(tmp_path: Path) -> None:
    program = nginx_program()
    self_signed_certificate(tmp_path)
    site = render_tls_site(tmp_path, tmp_path / "static")
    conf = tmp_path / "nginx.conf"
    conf.write_text(main_conf(program, tmp_path, site))
    checked = subprocess.run([program, "-t", "-p", str(tmp_path), "-c", str(conf)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def _raw_get(port: int, path: str, host: str, tls: ssl.SSLContext | None = None,
             sni: str | None = None, method: str = "GET") -> tuple[int, Message, bytes]:
    """GET (or another request without a body) over a socket of our own, so the Host header
    and the TLS server name can be any name while the connection goes to 127.0.0.1."""
    sock: socket.socket = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    with contextlib.ExitStack() as stack:
        stack.enter_context(sock)
        if tls is not None:
            sock = stack.enter_context(tls.wrap_socket(sock, server_hostname=sni))
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.headers, response.read()


async def test_the_tls_site_file_serves_https_websockets_and_redirects(
        stack: Stack, tmp_path: Path) -> None:
    program = nginx_program()
    cert = self_signed_certificate(tmp_path)
    http_port = https_port = free_port()
    while https_port == http_port:
        https_port = free_port()
    site = render_tls_site(tmp_path, stack.static_root)
    # On loopback: free ports instead of 80/443, no IPv6 listeners (this machine may have no
    # IPv6), the test's workers in the upstream.
    site = re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.MULTILINE)
    site = re.sub(r"listen 80\b", f"listen 127.0.0.1:{http_port}", site)
    site = re.sub(r"listen 443\b", f"listen 127.0.0.1:{https_port}", site)
    upstream = re.search(r"^upstream hearth_workers \{.*?^\}", site, re.MULTILINE | re.DOTALL)
    assert upstream
    site = site.replace(upstream.group(0), production_upstream(stack.workers.ports))
    tls = ssl.create_default_context(cafile=str(cert))
    site_host = f"{TLS_HOST}:{https_port}"

    with running_nginx(program, tmp_path / "run", site, [http_port, https_port]) as nginx:
        # Port 80 redirects to https; other names get no answer at all.
        status, headers, _ = await asyncio.to_thread(
            _raw_get, http_port, "/rooms/?x=1", TLS_HOST)
        assert (status, headers["Location"]) == (301, f"https://{TLS_HOST}/rooms/?x=1")
        with pytest.raises(ConnectionResetError):  # RemoteDisconnected is one
            await asyncio.to_thread(_raw_get, http_port, "/", "elsewhere.example")
        # TLS for our name only: a handshake for any other name is refused.
        with pytest.raises(ssl.SSLError):
            await asyncio.to_thread(_raw_get, https_port, "/", "elsewhere.example",
                                    ssl.create_default_context(cafile=str(cert)),
                                    "elsewhere.example")

        status, headers, body = await asyncio.to_thread(
            _raw_get, https_port, "/readyz", site_host, tls, TLS_HOST)
        assert status == 200, body
        assert headers["Strict-Transport-Security"] == "max-age=31536000"

        # A member over https and wss, the Origin being the https site; joining (as the room
        # page's script does) gives the session.
        status, headers, _ = await asyncio.to_thread(_raw_get, https_port, "/me/join/",
                                                     site_host, tls, TLS_HOST, "POST")
        assert status == 200
        cookie = next(value.split(";", 1)[0].partition("=")[2]
                      for value in headers.get_all("Set-Cookie") or []
                      if value.startswith(f"{SESSION_COOKIE}="))
        sock = socket.create_connection(("127.0.0.1", https_port), timeout=TIMEOUT)
        ws = await websockets.connect(
            f"wss://{site_host}/ws/rooms/the-lounge/", sock=sock, ssl=tls,
            server_hostname=TLS_HOST, origin=Origin(f"https://{site_host}"),
            additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, open_timeout=30)
        try:
            assert (await next_frame(ws, None, TIMEOUT))["type"] == "welcome"
        finally:
            await ws.close()

        access_log = tmp_path / "hearth.access.log"
        deadline = time.monotonic() + TIMEOUT
        while "/ws/rooms/the-lounge/" not in access_log.read_text():
            assert time.monotonic() < deadline, access_log.read_text()
            await asyncio.sleep(0.05)
        log = access_log.read_text() + (tmp_path / "hearth.error.log").read_text()
        assert "127.0.0.1" not in log, log
        assert nginx.process.poll() is None
