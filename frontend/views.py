"""Pages. Each one reads through a selector or writes through a service; nothing else."""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chat.errors import HearthError
from chat.frames import browser_constants
from chat.identity import NewSessionsLimitedError, current_member, ensure_member
from chat.limits import chat_limits
from chat.models import Role
from chat.protocol import ROOM_FINAL_CLOSES, STAFF_FINAL_CLOSES
from chat.services import change_handle, forget_member
from frontend.forms import AppealForm, ForgetForm, HandleForm
from frontend.source import source_archive
from moderation import fallback
from moderation.duty import on_duty_count
from moderation.fallback_status import NOT_CONFIGURED
from moderation.member_data import erasure_summary, member_export
from moderation.models import ESCALATION_TIERS_BY_URGENCY, GroundRule, Mute, ReportReason
from moderation.permissions import can_moderate, can_staff
from moderation.selectors import decisions_for_member
from moderation.services import appeal_decision
from rooms.models import Audience, FocusArea, Room
from rooms.schedule import upcoming_sessions
from rooms.selectors import directory as directory_rooms


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    focus = request.GET.get("focus_area", "")
    focus = focus if focus in FocusArea.values else ""
    audience = request.GET.get("audience", "")
    audience = audience if audience in Audience.values else ""
    # Every room is on the page and filters only hide cards, so the page's script can filter
    # instantly and the page still works without it.
    rooms = directory_rooms()
    groups = []
    for value, label in FocusArea.choices:
        cards = [
            {"room": room, "matches": (not focus or room.focus_area == focus)
             and (not audience or room.audience == audience)}
            for room in rooms if room.focus_area == value
        ]
        if cards:
            groups.append({"value": value, "label": label, "cards": cards,
                           "any_match": any(card["matches"] for card in cards)})
    return render(request, "frontend/directory.html", {
        "groups": groups,
        # Said honestly on the page: whether anyone from the team is there right now.
        "on_duty": on_duty_count(),
        "any_match": any(group["any_match"] for group in groups),
        "focus_areas": FocusArea.choices,
        "audiences": Audience.choices,
        "selected_focus": focus,
        "selected_audience": audience,
        # Times go out in UTC; the page's script shows them in the member's own zone.
        "sessions": upcoming_sessions(now=timezone.now()),
    })


@require_GET
def room(request: HttpRequest, slug: str) -> HttpResponse:
    # Only read: the page's script asks for a handle (join) before it opens the room.
    member = current_member(request)
    room_obj = Room.objects.filter(slug=slug, is_active=True).first()
    if room_obj is None:
        raise Http404("room not found")
    muted = (Mute.objects.filter(member=member).select_related("muted")
             .order_by("muted__handle_key")) if member is not None else []
    return render(request, "frontend/room.html", {
        "room": room_obj, "member": member, "max_body_chars": chat_limits().max_body_chars,
        "muted_handles": [mute.muted.handle for mute in muted],
        "report_reasons": ReportReason.choices, "final_closes": ROOM_FINAL_CLOSES,
        "protocol": browser_constants()})


@csrf_exempt
@require_POST
def join(request: HttpRequest) -> JsonResponse:
    """The visitor's handle, made now if they have none: the room page asks for it before it
    opens the room's socket. Exempt from CSRF because it only ever gives a visitor without a
    handle a new one, which another site can neither choose nor learn; it changes nothing for
    a visitor who has one."""
    try:
        member = ensure_member(request)
    except NewSessionsLimitedError as error:
        response = JsonResponse({"code": error.code.value, "detail": error.detail}, status=429)
        response.headers["Retry-After"] = str(math.ceil(error.retry_after))
        return response
    return JsonResponse({"handle": member.handle, "role": member.role})


@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    form = HandleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Looking is free; choosing a handle is an action, so it is what makes a member.
        member = ensure_member(request)
        try:
            change_handle(member=member, new_handle=form.cleaned_data["handle"])
        except HearthError as error:
            form.add_error("handle", error.detail)
        else:
            messages.success(request, f"You're now {member.handle}.")
            return HttpResponseRedirect(reverse("frontend:me"))
    status = 400 if request.method == "POST" else 200
    return render(request, "frontend/me.html", {
        "form": form, "member": member,
        "decisions": decisions_for_member(member_id=member.pk) if member is not None else None},
        status=status)


@require_POST
def appeal(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    form = AppealForm(request.POST)
    if member is None:
        messages.error(request, "There's nothing to appeal: you haven't got a handle yet.")
        return HttpResponseRedirect(reverse("frontend:me"))
    if not form.is_valid():
        messages.error(request, "Please tell us in a few words why (at most 1,000 characters).")
        return HttpResponseRedirect(reverse("frontend:me") + "#appeals")
    try:
        appeal_decision(member=member, text=form.cleaned_data["text"],
                        sanction_id=form.cleaned_data["sanction_id"],
                        message_id=form.cleaned_data["message_id"])
    except HearthError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "Thank you. A moderator will look at it again.")
    return HttpResponseRedirect(reverse("frontend:me") + "#appeals")


NOTHING_STORED = "Nothing is stored about you: you haven't got a handle yet."


@require_GET
def export_me(request: HttpRequest) -> HttpResponse:
    """Everything stored about the visitor, as a JSON download (a read: safe to repeat)."""
    member = current_member(request)
    if member is None:
        return JsonResponse({"detail": NOTHING_STORED}, status=404,
                            headers={"Cache-Control": "no-store"})
    body = json.dumps(member_export(member=member), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="hearth-{timezone.localdate().isoformat()}.json"')
    response["Cache-Control"] = "no-store"  # not for a shared cache or the back button
    return response


@require_http_methods(["GET", "POST"])
def forget_me(request: HttpRequest) -> HttpResponse:
    """Erasing asks first: this page says what will go, and only a POST with the box ticked
    erases. Anything else changes nothing."""
    member = current_member(request)
    form = ForgetForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if member is not None:
            try:
                forget_member(member=member)
            except HearthError as error:
                messages.error(request, error.detail)
                return HttpResponseRedirect(reverse("frontend:me"))
        request.session.flush()
        return HttpResponseRedirect(reverse("frontend:goodbye"))
    return render(request, "frontend/forget.html", {
        "form": form, "member": member,
        "summary": erasure_summary(member=member) if member is not None else None,
    }, status=400 if request.method == "POST" else 200)


# Crawlers have no business in rooms or on anyone's own pages; the directory may be listed.
ROBOTS_TXT = """User-agent: *
Disallow: /rooms/
Disallow: /me/
Disallow: /sessions/
Disallow: /moderation/
Disallow: /staff/
Disallow: /admin/
Disallow: /ws/
Disallow: /goodbye/
Disallow: /source/
"""


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")


@require_GET
def source_code(request: HttpRequest) -> FileResponse:
    """The running code as a .tar.gz (GNU AGPL 3.0 §13); see frontend/source.py."""
    archive = source_archive(root=settings.BASE_DIR, cache_dir=settings.STATE_DIR / "source")
    return FileResponse(archive.open("rb"), as_attachment=True,
                        filename="hearth-source.tar.gz", content_type="application/gzip")


@require_GET
def goodbye(request: HttpRequest) -> HttpResponse:
    # Deliberately does not create a new member: someone who just left stays gone.
    return render(request, "frontend/goodbye.html")


@require_GET
def moderation_dashboard(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    # Every staff role works escalations and take-asides; only moderators see the review queue.
    if not can_staff(member):
        return render(request, "frontend/forbidden.html", status=403)
    rules = (GroundRule.objects.filter(is_active=True).select_related("room")
             .order_by("room_id", "position", "code"))
    return render(request, "frontend/moderation.html", {
        "member": member,
        "can_moderate": can_moderate(member),
        "ground_rules": [{"code": rule.code, "title": rule.title,
                          "room": rule.room.slug if rule.room else None} for rule in rules],
        "rooms": Room.objects.filter(is_active=True).order_by("title").values("slug", "title"),
        "report_reasons": ReportReason.choices,
        "final_closes": STAFF_FINAL_CLOSES,
        "protocol": browser_constants(),
        # The dashboard's tier names and order come from here, never a copy in the script.
        "escalation_tiers": [{"tier": tier.value, "label": str(tier.label)}
                             for tier in ESCALATION_TIERS_BY_URGENCY],
        # Only admins can change it; others would only be worried by it.
        "fallback_warning": NOT_CONFIGURED if member is not None and member.role == Role.ADMIN
        and not fallback.is_configured() else "",
    })
