"""The helpline directory: one verified line for a member's region, never a wall of links."""

from __future__ import annotations

import re
from typing import Any

from moderation.models import Helpline

FALLBACK_REGION = "*"
MORE_HELPLINES_URL = "https://findahelpline.com/"
_REGION = re.compile(r"^[A-Z]{2}$")
# Languages whose speakers mostly live in one of the regions we have lines for; used only
# when the browser's language carries no region ("en" alone says nothing).
_LANGUAGE_REGION = {"en": "", "ga": "IE", "mi": "NZ"}


def clean_region(raw: str | None) -> str | None:
    """An ISO 3166 alpha-2 code, upper-cased, or None."""
    if not raw:
        return None
    region = raw.strip().upper()
    return region if _REGION.match(region) else None


def region_from_accept_language(header: str | None) -> str | None:
    """The first language tag with a region ("en-GB,en;q=0.9" → "GB")."""
    if not header:
        return None
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        pieces = re.split(r"[-_]", tag)
        if len(pieces) >= 2 and (region := clean_region(pieces[-1])):
            return region
        if pieces and (region := _LANGUAGE_REGION.get(pieces[0].lower())):
            return region
    return None


def helpline_for(*, region: str | None) -> Helpline | None:
    """The first verified line for the region, else the worldwide fallback."""
    lines = Helpline.objects.filter(is_verified=True).order_by("position", "name")
    if region:
        line = lines.filter(region=region).first()
        if line is not None:
            return line
    return lines.filter(region=FALLBACK_REGION).first()


def helpline_card(line: Helpline | None) -> dict[str, Any]:
    if line is None:
        return {"name": "Find A Helpline", "phone": "", "text": "", "chat_url": "",
                "url": MORE_HELPLINES_URL, "hours": "", "open_24_7": False,
                "region": FALLBACK_REGION}
    return {"name": line.name, "phone": line.phone, "text": line.text,
            "chat_url": line.chat_url, "url": line.url, "hours": line.hours,
            "open_24_7": line.is_24_7, "region": line.region}


def regions_with_lines() -> list[str]:
    return sorted(set(Helpline.objects.filter(is_verified=True)
                      .exclude(region=FALLBACK_REGION).values_list("region", flat=True)))
