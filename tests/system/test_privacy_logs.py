"""What the servers write to their logs: never message text, cookies, client addresses or
handles, even when frames are refused; and pages carry a strict Content-Security-Policy."""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path

import pytest

from tests.system.client import (
    Chatter,
    frames_until_close,
    http_request,
    join,
    post_form,
    set_cookies,
)
from tests.system.servers import SESSION_COOKIE, Servers, run_servers

pytestmark = pytest.mark.system

# No vowels: a random tail can never spell a word the handle rules refuse ("snap", "kik").
_CONSONANTS = "bcdfghjklmnpqrstvxz"


def _letters(n: int) -> str:
    return "".join(secrets.choice(_CONSONANTS) for _ in range(n))


async def _new_member(servers: Servers, client_ports: list[int]) -> str:
    reply = await http_request(servers, "POST", "/me/join/")  # as a room page does first
    client_ports.append(reply.client_port)
    cookie = set_cookies(reply).get(SESSION_COOKIE)
    assert cookie, "joining did not set a session cookie"
    return cookie


async def _join(servers: Servers, room: str, cookie: str, client_ports: list[int]) -> Chatter:
    chatter = await join(servers, room, cookie)
    client_ports.append(int(chatter.ws.local_address[1]))
    return chatter


async def test_logs_hold_no_text_cookies_addresses_or_handles(tmp_path: Path) -> None:
    canary = f"canary{uuid.uuid4().hex}"
    body = f"{canary} I have not told anyone this before"
    secrets_to_keep: set[str] = {canary}
    client_ports: list[int] = []

    with run_servers(tmp_path) as servers:
        speaker_cookie = await _new_member(servers, client_ports)
        listener_cookie = await _new_member(servers, client_ports)
        leaver_cookie = await _new_member(servers, client_ports)
        secrets_to_keep |= {speaker_cookie, listener_cookie, leaver_cookie}

        speaker = await _join(servers, "the-lounge", speaker_cookie, client_ports)
        listener = await _join(servers, "the-lounge", listener_cookie, client_ports)
        leaver = await _join(servers, "the-lounge", leaver_cookie, client_ports)
        secrets_to_keep |= {speaker.handle, listener.handle, leaver.handle}
        try:
            ack = await speaker.send(body)
            while (seen := await listener.message())["seq"] != ack["seq"]:
                pass
            assert seen["body"] == body

            # Refused frames that carry the text: each is logged, by its code only.
            refused = [
                f'{{"type":"send","client_id":"x","body":"{canary}',  # malformed JSON
                json.dumps({"type": f"shout-{canary}", "body": body}),
                json.dumps({"type": "send", "client_id": f"bad id {canary}", "body": body}),
                json.dumps({"type": "send", "client_id": "ctl", "body": f"{canary}\u0007"}),
                json.dumps({"type": "send", "client_id": "long", "body": canary * 100}),
            ]
            for text in refused:
                await speaker.ws.send(text)
                assert (await speaker.frame("error"))["code"]

            # A handle change refused for carrying contact details, then one that works.
            bad_handle = f"Qx{_letters(6)}gmail"
            reply = await post_form(servers, speaker_cookie, "/me/", {"handle": bad_handle})
            client_ports.append(reply.client_port)
            assert reply.status == 400
            new_handle = f"Qx{_letters(12)}"
            reply = await post_form(servers, speaker_cookie, "/me/", {"handle": new_handle})
            client_ports.append(reply.client_port)
            assert reply.status == 302, reply.body[:500]
            secrets_to_keep |= {bad_handle, new_handle}

            # An erasure, with a message of its own.
            erased_body = f"{canary} erase me please"
            await leaver.send(erased_body)
            reply = await post_form(servers, leaver_cookie, "/me/forget/", {"confirm": "yes"})
            client_ports.append(reply.client_port)
            assert reply.status == 302
            _frames, code = await frames_until_close(leaver.ws)
            assert code == 4410
            removed = await listener.frame("message_removed")
            assert removed["reason"] == "erased"
        finally:
            for chatter in (speaker, listener, leaver):
                await chatter.close()
    # The servers have stopped: everything they will ever write about this is in the logs.
    log = servers.log_text()

    assert "frame refused" in log, "expected the refusals to be logged (by code)"
    assert "member erased" in log, "expected the erasure to be logged (without details)"
    leaks = sorted(value for value in secrets_to_keep if value.lower() in log.lower())
    assert not leaks, f"the logs contain {leaks}"
    assert client_ports
    for port in client_ports:
        for address in (f"127.0.0.1:{port}", f"'127.0.0.1', {port}"):
            assert address not in log, f"the logs contain the client address {address}"


@pytest.mark.parametrize("path", ["/", "/rooms/the-lounge/", "/me/"])
async def test_pages_carry_a_strict_content_security_policy(servers: Servers,
                                                            path: str) -> None:
    reply = await http_request(servers, "GET", path)
    assert reply.status == 200
    policy = reply.headers.get("Content-Security-Policy")
    assert policy, f"{path} has no Content-Security-Policy"
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
