"""The one place where message HTML is made.

Everything the member typed is escaped; then http(s) links become anchors that open safely.
The result is stored with the message and is the only HTML a client ever inserts.
"""

from __future__ import annotations

from typing import Any

import bleach
from bleach.linkifier import Linker

LINK_REL = "nofollow noopener noreferrer"
_SAFE_PROTOCOLS = ("http", "https")


def _only_web_links(attrs: dict[Any, str], new: bool = False) -> dict[Any, str] | None:
    # Only links the member wrote out in full; bare domains and other schemes stay plain text.
    text = attrs.get("_text", "")
    if not text.lower().startswith(("http://", "https://")):
        return None
    attrs[(None, "rel")] = LINK_REL
    attrs[(None, "target")] = "_blank"
    return attrs


_linker = Linker(callbacks=[_only_web_links], parse_email=False, skip_tags=None)


def render_message_html(body: str) -> str:
    escaped = bleach.clean(body, tags=set(), attributes={}, protocols=_SAFE_PROTOCOLS,
                           strip=False)
    html: str = _linker.linkify(escaped)
    return html.replace("\n", "<br>")
