"""The pages' part of the crisis path: every staff role opens the dashboard (only moderators
get the review queue), and the directory says honestly whether anyone is on duty."""

import json
import re

import pytest

from chat.models import Role
from moderation.duty import check_in, check_out
from moderation.models import EscalationTier
from tests.factories import make_room, make_staff
from tests.staff_auth import sign_in_staff

pytestmark = pytest.mark.django_db

NOBODY = "Nobody from the team is on duty right now."
SOMEBODY = "A moderator or peer supporter is on duty now."


def sign_in(client, staff):
    sign_in_staff(client, staff)  # the password, then the second factor if the role needs one


@pytest.mark.parametrize("role", [Role.PEER_SUPPORTER, Role.MODERATOR, Role.ADMIN])
def test_every_staff_role_opens_the_dashboard(client, role):
    sign_in(client, make_staff(role))
    response = client.get("/moderation/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="escalations"' in html and 'id="duty-toggle"' in html
    review_hidden = re.search(r'<div id="review" class="review" hidden>', html) is not None
    assert review_hidden == (role == Role.PEER_SUPPORTER)
    assert response.context["can_moderate"] == (role != Role.PEER_SUPPORTER)


def test_the_dashboard_names_every_escalation_tier_most_urgent_first(client):
    """The script takes the tiers' names and order from the page, so a new tier (as
    "Raised by staff" once was) never shows up in the dashboard as its raw value."""
    sign_in(client, make_staff(Role.PEER_SUPPORTER))
    html = client.get("/moderation/").content.decode()
    found = re.search(r'<script id="escalation-tiers" type="application/json">(.*?)</script>',
                      html)
    assert found is not None
    tiers = json.loads(found.group(1))
    assert {tier["tier"] for tier in tiers} == set(EscalationTier.values)
    assert [tier["tier"] for tier in tiers][:2] == ["imminent", "high_risk"]
    assert {"tier": "staff_concern", "label": "Raised by staff"} in tiers


def test_members_get_the_staff_only_page(client):
    client.post("/me/join/")
    response = client.get("/moderation/")
    assert response.status_code == 403
    assert 'id="escalations"' not in response.content.decode()


def test_directory_says_whether_anyone_is_on_duty(client):
    make_room(slug="lounge")
    html = client.get("/").content.decode()
    assert NOBODY in html and SOMEBODY not in html

    staff = make_staff(Role.PEER_SUPPORTER)
    check_in(member=staff)
    html = client.get("/").content.decode()
    assert SOMEBODY in html and NOBODY not in html

    check_out(member=staff)
    assert NOBODY in client.get("/").content.decode()


def test_directory_marks_staffed_only_rooms_open_or_closed(client):
    room = make_room(slug="night-owls")
    room.staffed_only = True
    room.save(update_fields=["staffed_only"])
    make_room(slug="always")
    html = client.get("/").content.decode()
    assert "Closed until someone from the team is on duty" in html
    assert html.count('class="tag staffed-only"') == 1

    check_in(member=make_staff(Role.MODERATOR))
    html = client.get("/").content.decode()
    assert "Open while staff are on duty" in html
    assert "Closed until someone from the team is on duty" not in html
