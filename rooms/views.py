"""Hosted-session pages: the calendar download, hosts' own feedback and the admins' trends."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from chat.identity import current_member
from chat.models import Role
from moderation.permissions import can_staff
from rooms.feedback import (
    MIN_ANSWERS_SHOWN,
    aggregate,
    aggregates_for_host,
    sessions_hosted_by,
    trends,
)
from rooms.models import SessionFeedback
from rooms.schedule import listed_sessions, next_occurrence, session_icalendar

TRENDS_WEEKS = 12


@require_GET
def session_calendar(request: HttpRequest, session_id: int) -> HttpResponse:
    """An .ics file for one listed session; no member is made for a download."""
    now = timezone.now()
    session = listed_sessions().filter(pk=session_id).first()
    if session is None or next_occurrence(session, now=now) is None:
        raise Http404("no such session on the schedule")
    body = session_icalendar(session, now=now, uid_domain=request.get_host().split(":")[0],
                             room_url=request.build_absolute_uri(session.room.get_absolute_url()))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="hearth-session-{session.pk}.ics"'
    return response


@require_GET
def host_feedback(request: HttpRequest) -> HttpResponse:
    """A host's own sessions, with what members said about them (sums only)."""
    member = current_member(request)
    if not can_staff(member) or member is None:
        return render(request, "frontend/forbidden.html", status=403)
    sessions = list(sessions_hosted_by(member).prefetch_related("feedback"))
    rows = [{"session": session, "aggregates": aggregate(session.feedback.all())}
            for session in sessions]
    return render(request, "frontend/session_feedback.html", {
        "member": member, "rows": rows, "overall": aggregates_for_host(member),
        "min_answers": MIN_ANSWERS_SHOWN, "is_admin": member.role == Role.ADMIN})


@require_GET
def feedback_trends(request: HttpRequest) -> HttpResponse:
    """Admins only: sums per room and per host, week by week."""
    member = current_member(request)
    if member is None or member.role != Role.ADMIN:
        return render(request, "frontend/forbidden.html", status=403)
    since = timezone.localdate() - timedelta(weeks=TRENDS_WEEKS)
    return render(request, "frontend/feedback_trends.html", {
        "member": member, "weeks": TRENDS_WEEKS, "min_answers": MIN_ANSWERS_SHOWN,
        "tables": [
            {"id": "room", "title": "By room", "key_label": "Room",
             "rows": trends(by="room", since=since)},
            {"id": "host", "title": "By host", "key_label": "Host",
             "rows": trends(by="host", since=since)},
        ],
        "total": SessionFeedback.objects.filter(occurrence_on__gte=since).count()})
