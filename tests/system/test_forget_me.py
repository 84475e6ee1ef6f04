"""'Leave and forget me' against a real server: the page, the sockets and the history agree."""

from __future__ import annotations

import pytest

from tests.system.client import frames_until_close, join, post_form
from tests.system.servers import Servers, open_socket

pytestmark = pytest.mark.system


async def test_forget_me_erases_messages_everywhere_and_closes_the_members_sockets(
        servers: Servers, room: str, cookies: list[str]) -> None:
    leaver = await join(servers, room, cookies[0])
    watcher = await join(servers, room, cookies[1])
    try:
        bystander = await watcher.send("I stay")
        first = await leaver.send("something I regret saying")
        second = await leaver.send("and this too")
        for ack in (first, second):
            while (seen := await watcher.message())["seq"] != ack["seq"]:
                pass
            assert seen["handle"] == leaver.handle

        # Without the box ticked nothing goes: the page asks again and the sockets stay.
        refused = await post_form(servers, cookies[0], "/me/forget/", {})
        assert refused.status == 400
        assert "Nothing has been erased" in refused.body
        still = await leaver.send("still here")

        reply = await post_form(servers, cookies[0], "/me/forget/", {"confirm": "yes"})
        assert reply.status == 302, reply.body[:500]
        assert reply.headers["Location"].endswith("/goodbye/")

        removed = await watcher.frame("message_removed")
        assert removed["seqs"] == [first["seq"], second["seq"], still["seq"]]
        assert removed["room"] == room

        frames, code = await frames_until_close(leaver.ws)
        assert [f["code"] for f in frames if f["type"] == "error"] == ["member_erased"]
        assert code == 4410

        page = await watcher.history(before_seq=still["seq"] + 1, limit=100)
        assert [(m["seq"], m["body"]) for m in page["messages"]] == [
            (bystander["seq"], "I stay")]
        assert leaver.handle not in {m["handle"] for m in page["messages"]}

        # The old session is gone too: it cannot open a socket as the erased member.
        ws = await open_socket(servers, room, cookies[0])
        frames, code = await frames_until_close(ws)
        assert [f["code"] for f in frames] == ["unauthenticated"]
        assert code == 4401
    finally:
        await leaver.close()
        await watcher.close()
