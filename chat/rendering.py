"""The one place where message HTML is made.

Everything the member typed is escaped; then http(s) links become anchors that open safely.
The result is stored with the message and is the only HTML a client ever inserts.
"""

from __future__ import annotations

import re
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


# Text that cleaning and linking leave exactly as it is: no markup characters, no control
# characters or noncharacters (which the HTML parser replaces), and no "://" (so no link).
# Most chat is like this, and bleach's parser costs about a millisecond per message; the
# test checks both paths agree on generated text.
_PLAIN_TEXT = re.compile(
    "[^&<>\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    + "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(1, 17))
    + "]*")


def render_message_html(body: str) -> str:
    if "://" not in body and _PLAIN_TEXT.fullmatch(body):
        return body.replace("\n", "<br>")
    escaped = bleach.clean(body, tags=set(), attributes={}, protocols=_SAFE_PROTOCOLS,
                           strip=False)
    html: str = _linker.linkify(escaped)
    return html.replace("\n", "<br>")
