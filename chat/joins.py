"""What a room socket gets on joining: its seat, the checks, and the welcome frame — for
every socket of a burst of connects at once.

Joining one socket used to cost some twenty queries, each mostly the ORM's own Python, in
the one thread all database work shares; 5,000 members arriving together queued for over a
minute. Sockets that connect while a batch is being joined are joined together in the next
one (chat/batching.py), with a handful of statements for the batch: the sessions, the seats,
the sanctions, the rules accepted, the mutes and the take-asides are each read once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from chat.errors import ErrorCode, HearthError
from chat.identity import member_id_from_session
from chat.limits import HISTORY_PAGE_MAX, chat_limits
from chat.protocol import PROTOCOL_VERSION
from moderation import asides, duty, support
from moderation import services as moderation
from moderation.helplines import FALLBACK_REGION, clean_region, region_from_accept_language
from moderation.rules import accepted_versions, room_rules
from moderation.sanctions import ensure_not_banned, prefetch_posting_sanctions
from rooms import sessions
from rooms.models import Room, RoomKind
from rooms.selectors import Presence, room_summary, rooms_presence
from rooms.services import Joined, Seat, join_rooms, leave_room

REGION_SESSION_KEY = "hearth_region"
_DB_SESSIONS = "django.contrib.sessions.backends.db"


@dataclass(frozen=True)
class JoinRequest:
    session: Any  # the socket's browser session (Channels' lazy SessionStore)
    room_slug: str
    channel_name: str
    headers: list[tuple[bytes, bytes]]
    worker_id: str


def region_for(session: Any, headers: list[tuple[bytes, bytes]]) -> str | None:
    """The member's chosen helpline region, else the one their browser's language implies."""
    chosen = session.get(REGION_SESSION_KEY)
    if chosen == FALLBACK_REGION or clean_region(chosen):
        return str(chosen)
    accept_language = next((value.decode("latin-1") for name, value in headers
                            if name == b"accept-language"), None)
    return region_from_accept_language(accept_language)


def public_limits() -> dict[str, Any]:
    limits = chat_limits()
    return {
        "max_body_chars": limits.max_body_chars,
        "max_frame_bytes": limits.max_frame_bytes,
        "send_burst": limits.send_burst,
        "send_per_second": limits.send_per_second,
        "heartbeat_seconds": limits.heartbeat_seconds,
        "history_page_max": HISTORY_PAGE_MAX,
    }


def join_sockets(requests: Sequence[JoinRequest]) -> list[dict[str, Any] | HearthError]:
    """Join each socket to its room, in order; each gets what the consumer needs (room,
    member, region, mutes, welcome frame) or the refusal to send it."""
    _load_sessions([request.session for request in requests])
    member_ids = [member_id_from_session(request.session) for request in requests]
    seat_for: dict[int, int] = {}  # request index -> index into seats
    seats: list[Seat] = []
    for index, (request, member_id) in enumerate(zip(requests, member_ids, strict=True)):
        if member_id is not None:
            seat_for[index] = len(seats)
            seats.append(Seat(room_slug=request.room_slug, member_id=member_id,
                              channel_name=request.channel_name, worker_id=request.worker_id))
    seated = join_rooms(seats)
    joined = [j for j in seated if isinstance(j, Joined)]
    ids = sorted({j.member.pk for j in joined})
    prefetch_posting_sanctions(sorted({(j.member.pk, j.room.pk) for j in joined}))
    accepted = accepted_versions(member_ids=ids)
    muted = moderation.muted_ids_by_member(member_ids=ids)
    live_asides = asides.live_asides_by_member(member_ids=ids)
    # Once per room per batch, for every socket joining it (the debounced broadcast follows).
    presence = rooms_presence(room_ids=sorted({j.room.pk for j in joined}))
    summaries: dict[int, dict[str, Any]] = {}
    outcomes: list[dict[str, Any] | HearthError] = []
    for index, request in enumerate(requests):
        if index not in seat_for:
            outcomes.append(HearthError(ErrorCode.UNAUTHENTICATED))
            continue
        seat = seated[seat_for[index]]
        if isinstance(seat, HearthError):
            outcomes.append(seat)
            continue
        try:
            outcomes.append(_welcome(
                request, seat, muted=muted[seat.member.pk],
                live_asides=live_asides[seat.member.pk], presence=presence,
                summaries=summaries,
                accepted_version=accepted.get((seat.member.pk, seat.room.pk), 0)))
        except HearthError as refusal:
            leave_room(channel_name=request.channel_name)
            outcomes.append(refusal)
    return outcomes


def _welcome(request: JoinRequest, seat: Joined, *, muted: set[int],
             live_asides: list[dict[str, Any]], presence: dict[int, Presence],
             summaries: dict[int, dict[str, Any]], accepted_version: int) -> dict[str, Any]:
    room, member = seat.room, seat.member
    # After the seat, which found the room: bans come from the sanctions read above.
    ensure_not_banned(member_id=member.pk, room_id=room.pk)
    sessions.note_arrival(member=member, room=room)
    hosted = sessions.current_session(room_id=room.pk) if room.kind == RoomKind.HOSTED else None
    if room.pk not in summaries:  # its display labels cost more than the rest of a welcome
        summaries[room.pk] = room_summary(room)
    region = region_for(request.session, request.headers)
    rules = room_rules(room_id=room.pk)
    return {
        "room": room,
        "member": member,
        "region": region,
        "muted": muted,
        "welcome": {
            "type": "welcome",
            "protocol": PROTOCOL_VERSION,
            "room": summaries[room.pk],
            "you": {"handle": member.handle, "role": member.role},
            "head_seq": room.last_seq,
            "presence": presence[room.pk].as_frame_field(),
            "limits": public_limits(),
            "rules": rules.as_frame_field(accepted=accepted_version >= rules.version),
            "staffing": staffing_field(room, region),
            "asides": live_asides,
            "session": sessions.session_field(hosted) if hosted else None,
            "region": region,
        },
    }


def staffing_field(room: Room, region: str | None) -> dict[str, Any]:
    staffing = duty.staffing_for(room=room)
    return support.staffing_field(staffed_only=staffing.staffed_only, on_duty=staffing.on_duty,
                                  region=region)


def _load_sessions(stores: list[Any]) -> None:
    """Load many database-backed browser sessions with one query, as each would load itself
    on first use (an unknown or expired key becomes an empty session without a key)."""
    if settings.SESSION_ENGINE != _DB_SESSIONS:
        return  # other engines load themselves on first use
    pending = {store.session_key: store for store in stores
               if store.session_key and getattr(store, "_session_cache", None) is None}
    if not pending:
        return
    found = dict(Session.objects.filter(session_key__in=list(pending),
                                        expire_date__gt=timezone.now())
                 .values_list("session_key", "session_data"))
    for key, store in pending.items():
        if key in found:
            store._session_cache = store.decode(found[key])
        else:
            store._session_key = None
            store._session_cache = {}
