"""Chat limits, read from settings in one place so every caller agrees on them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

HISTORY_PAGE_MAX = 100
CLIENT_ID_MAX_CHARS = 64


@dataclass(frozen=True)
class ChatLimits:
    max_body_chars: int
    max_frame_bytes: int
    send_burst: int
    send_per_second: float
    read_burst: int
    read_per_second: float
    max_sockets_per_session: int
    heartbeat_seconds: float
    resume_page: int
    presence_debounce_seconds: float
    reaction_burst: int
    reaction_per_second: float

    @property
    def stale_after_seconds(self) -> float:
        """A connection not refreshed for three heartbeats belongs to a worker that died."""
        return self.heartbeat_seconds * 3


def chat_limits() -> ChatLimits:
    return ChatLimits(
        max_body_chars=settings.HEARTH_MAX_BODY_CHARS,
        max_frame_bytes=settings.HEARTH_MAX_FRAME_BYTES,
        send_burst=settings.HEARTH_SEND_BURST,
        send_per_second=settings.HEARTH_SEND_PER_SECOND,
        read_burst=settings.HEARTH_READ_BURST,
        read_per_second=settings.HEARTH_READ_PER_SECOND,
        max_sockets_per_session=settings.HEARTH_MAX_SOCKETS_PER_SESSION,
        heartbeat_seconds=settings.HEARTH_HEARTBEAT_SECONDS,
        resume_page=settings.HEARTH_RESUME_PAGE,
        presence_debounce_seconds=settings.HEARTH_PRESENCE_DEBOUNCE_SECONDS,
        reaction_burst=settings.HEARTH_REACTION_BURST,
        reaction_per_second=settings.HEARTH_REACTION_PER_SECOND,
    )
