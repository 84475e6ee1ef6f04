"""The rooms a fresh installation starts with, so the directory is never empty."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from chat.handles import handle_key
from chat.models import Member, Role
from moderation.permissions import Action, can
from rooms.models import Audience, FocusArea, HostedSession, Room, RoomKind, SessionTemplate
from rooms.schedule import schedule_session

DEMO_ROOMS: tuple[dict[str, str | int | bool], ...] = (
    {"slug": "low-days", "title": "Low days", "focus_area": FocusArea.DEPRESSION,
     "description": "For the days when getting up feels heavy. Come as you are."},
    {"slug": "young-adults-mood", "title": "Mood talk for young adults",
     "focus_area": FocusArea.DEPRESSION, "audience": Audience.YOUNG_ADULTS,
     "description": "Students and young adults talking honestly about low mood."},
    {"slug": "anxious-minds", "title": "Anxious minds", "focus_area": FocusArea.ANXIETY,
     "description": "Racing thoughts, panic, worry. Share what helps and what doesn't."},
    {"slug": "evening-anxiety-circle", "title": "Evening anxiety circle",
     "focus_area": FocusArea.ANXIETY, "kind": RoomKind.HOSTED, "capacity": 12,
     "description": "A small group hosted by a trained peer supporter."},
    {"slug": "grief-and-loss", "title": "Grief and loss", "focus_area": FocusArea.GRIEF,
     "description": "For anyone missing someone. There is no right way to grieve."},
    {"slug": "carers-grief", "title": "Carers who are grieving", "focus_area": FocusArea.GRIEF,
     "audience": Audience.CARERS,
     "description": "For people who cared for someone who has died or is dying."},
    {"slug": "after-trauma", "title": "After trauma", "focus_area": FocusArea.TRAUMA,
     "description": "Living with what happened. No details needed to belong here."},
    {"slug": "veterans-trauma", "title": "Veterans' corner", "focus_area": FocusArea.TRAUMA,
     "audience": Audience.VETERANS,
     "description": "Veterans supporting veterans through life after service."},
    {"slug": "one-day-at-a-time", "title": "One day at a time",
     "focus_area": FocusArea.SUBSTANCE_USE,
     "description": "Recovery, cravings, slips and wins. Every day counts."},
    {"slug": "lgbtq-recovery", "title": "LGBTQ+ recovery", "focus_area": FocusArea.SUBSTANCE_USE,
     "audience": Audience.LGBTQ,
     "description": "A recovery space for LGBTQ+ people, with no need to explain yourself."},
    {"slug": "night-owls", "title": "Night owls", "focus_area": FocusArea.GENERAL,
     "staffed_only": True,
     "description": "For long nights. Open whenever someone from our team is on duty."},
    {"slug": "the-lounge", "title": "The lounge", "focus_area": FocusArea.GENERAL,
     "description": "Open around the clock. Say hello, talk about your day."},
    {"slug": "lgbtq-lounge", "title": "LGBTQ+ lounge", "focus_area": FocusArea.GENERAL,
     "audience": Audience.LGBTQ, "description": "A warm, open space for LGBTQ+ people."},
    {"slug": "carers-cafe", "title": "Carers' cafe", "focus_area": FocusArea.GENERAL,
     "audience": Audience.CARERS,
     "description": "For people looking after someone. Your needs matter too."},
)


def seed_demo_rooms() -> int:
    """Create any demo room that is missing; never overwrite an operator's edits. Also puts
    the demo hosted session on the schedule if its room has none."""
    created = 0
    for spec in DEMO_ROOMS:
        _room, was_created = Room.objects.get_or_create(slug=spec["slug"], defaults={
            key: value for key, value in spec.items() if key != "slug"})
        created += was_created
    seed_demo_session()
    return created


DEMO_SESSION_ROOM = "evening-anxiety-circle"
DEMO_SESSION_ZONE = "Europe/London"
# A peer supporter with no login, so the demo session has a host before any staff exist.
DEMO_HOST_HANDLE = "KindWillow3"
TUESDAY = 1


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def seed_demo_session() -> HostedSession | None:
    """"Evening anxiety circle", Tuesdays 19:00-20:00 Europe/London, for ten; idempotent: a
    room that already has a session (the demo one or an operator's) is left alone."""
    room = Room.objects.filter(slug=DEMO_SESSION_ROOM).first()
    if room is None or room.sessions.exists():
        return None
    host, _created = Member.objects.get_or_create(
        handle_key=handle_key(DEMO_HOST_HANDLE),
        defaults={"handle": DEMO_HOST_HANDLE, "role": Role.PEER_SUPPORTER})
    if not can(host, Action.HOST_SESSIONS):  # a member happened to pick the name: leave them be
        return None
    today = timezone.now().astimezone(ZoneInfo(DEMO_SESSION_ZONE)).date()
    return schedule_session(
        room=room, title="Evening anxiety circle", host=host, time_zone=DEMO_SESSION_ZONE,
        first_date=_next_weekday(today, TUESDAY), start_time=time(19, 0), duration_minutes=60,
        capacity=10, template=SessionTemplate.objects.order_by("pk").first())
