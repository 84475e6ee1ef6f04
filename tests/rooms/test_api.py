import pytest

from rooms.demo import DEMO_ROOMS, seed_demo_rooms
from rooms.models import Room
from tests.factories import make_room

pytestmark = pytest.mark.django_db


def test_directory_json_lists_active_rooms_with_presence(client):
    make_room(slug="open-one", focus_area="grief")
    make_room(slug="closed-one", is_active=False)
    data = client.get("/api/rooms/").json()
    slugs = [room["slug"] for room in data["rooms"]]
    assert "open-one" in slugs and "closed-one" not in slugs
    room = next(r for r in data["rooms"] if r["slug"] == "open-one")
    assert room["present"] == 0 and room["focus_area_label"] == "Grief and loss"
    assert room["url"] == "/rooms/open-one/"


def test_directory_json_filters_and_refuses_unknown_values(client):
    make_room(slug="g", focus_area="grief")
    make_room(slug="a", focus_area="anxiety")
    data = client.get("/api/rooms/?focus_area=grief").json()
    assert [r["slug"] for r in data["rooms"]] == ["g"]
    response = client.get("/api/rooms/?focus_area=<script>")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_field"
    assert client.post("/api/rooms/").status_code == 405


def test_demo_rooms_cover_every_focus_area_and_audience_and_seed_once():
    assert seed_demo_rooms() == len(DEMO_ROOMS)
    assert seed_demo_rooms() == 0
    assert set(Room.objects.values_list("focus_area", flat=True)) == {
        "depression", "anxiety", "grief", "trauma", "substance_use", "general"}
    assert set(Room.objects.values_list("audience", flat=True)) == {
        "everyone", "young_adults", "veterans", "lgbtq", "carers"}


def test_seed_does_not_overwrite_operator_edits():
    seed_demo_rooms()
    Room.objects.filter(slug="the-lounge").update(title="Our lounge")
    seed_demo_rooms()
    assert Room.objects.get(slug="the-lounge").title == "Our lounge"


def test_directory_json_says_honestly_how_many_of_the_team_are_on_duty(client):
    from moderation import duty
    from tests.factories import make_staff

    make_room(slug="night", staffed_only=True)
    data = client.get("/api/rooms/").json()
    assert data["on_duty_count"] == 0
    assert next(r for r in data["rooms"] if r["slug"] == "night")["staffed_only"] is True
    staff = make_staff()
    duty.check_in(member=staff)
    assert client.get("/api/rooms/").json()["on_duty_count"] == 1
    duty.check_out(member=staff)
    assert client.get("/api/rooms/").json()["on_duty_count"] == 0
