import pytest
from django.db import connection

from chat.errors import ErrorCode, HearthError
from chat.models import Member, Message, Role
from chat.services import (
    change_handle,
    create_anonymous_member,
    forget_member,
    member_for_staff_user,
    post_message,
)
from tests.factories import accept_room_rules, make_member, make_room, make_staff, post_in_room

pytestmark = pytest.mark.django_db


def test_anonymous_member_has_a_handle_and_nothing_else():
    member = create_anonymous_member()
    assert member.handle and member.handle_key == member.handle.lower()
    assert member.role == Role.MEMBER and member.user_id is None
    columns = {field.name for field in Member._meta.get_fields()}
    assert not columns & {"email", "ip", "ip_address", "user_agent", "phone"}


def test_post_assigns_gap_free_increasing_seq_per_room():
    room, other_room = make_room(), make_room()
    member = make_member()
    seqs = [post_in_room(member=member, room=room, client_id=f"c{i}", body="hi").message.seq
            for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert post_in_room(member=member, room=other_room, client_id="o1", body="x").message.seq == 1
    room.refresh_from_db()
    assert room.last_seq == 5


def test_retry_with_same_client_id_returns_same_seq_and_one_row():
    room, member = make_room(), make_member()
    first = post_in_room(member=member, room=room, client_id="same", body="hello")
    again = post_in_room(member=member, room=room, client_id="same", body="hello")
    assert first.created and not again.created
    assert again.message.seq == first.message.seq
    assert Message.objects.filter(author=member, client_id="same").count() == 1
    room.refresh_from_db()
    assert room.last_seq == 1


def test_same_client_id_from_another_member_is_a_different_message():
    room = make_room()
    a = post_in_room(member=make_member(), room=room, client_id="x", body="a")
    b = post_in_room(member=make_member(), room=room, client_id="x", body="b")
    assert (a.message.seq, b.message.seq) == (1, 2)


def test_reusing_a_client_id_in_another_room_is_refused():
    member = make_member()
    post_in_room(member=member, room=make_room(), client_id="x", body="a")
    with pytest.raises(HearthError) as caught:
        post_in_room(member=member, room=make_room(), client_id="x", body="b")
    assert caught.value.code == ErrorCode.INVALID_FIELD


def test_message_html_is_made_at_write_time():
    message = post_in_room(member=make_member(), room=make_room(), client_id="h",
                           body="<b>hi</b> https://x.org").message
    assert message.body == "<b>hi</b> https://x.org"
    assert message.html.startswith("&lt;b&gt;hi&lt;/b&gt; <a href=\"https://x.org\"")


def test_posting_to_a_closed_room_or_as_an_erased_member_is_refused():
    member, closed = make_member(), make_room(is_active=False)
    with pytest.raises(HearthError) as caught:
        post_in_room(member=member, room=closed, client_id="c", body="hi")
    assert caught.value.code == ErrorCode.ROOM_NOT_FOUND
    ghost, room = make_member(), make_room()
    accept_room_rules(ghost, room)
    Member.objects.filter(pk=ghost.pk).delete()
    with pytest.raises(HearthError) as caught:
        post_message(member=ghost, room=room, client_id="c", body="hi")
    assert caught.value.code == ErrorCode.MEMBER_ERASED


def test_change_handle_validates_and_keeps_handles_unique_ignoring_case():
    a, b = make_member(), make_member()
    change_handle(member=a, new_handle="NightOwl")
    assert Member.objects.get(pk=a.pk).handle == "NightOwl"
    with pytest.raises(HearthError) as caught:
        change_handle(member=b, new_handle="nightowl")
    assert caught.value.code == ErrorCode.HANDLE_TAKEN
    with pytest.raises(HearthError) as caught:
        change_handle(member=b, new_handle="text me 07700900123")
    assert caught.value.code == ErrorCode.HANDLE_CONTACT_DETAILS
    change_handle(member=a, new_handle="nightOWL")  # own handle, new case: fine
    assert Member.objects.get(pk=a.pk).handle == "nightOWL"


def test_forget_member_erases_member_handle_and_messages(django_capture_on_commit_callbacks):
    room = make_room()
    leaver, stayer = make_member(), make_member()
    for i in range(3):
        post_in_room(member=leaver, room=room, client_id=f"l{i}", body="mine")
    post_in_room(member=stayer, room=room, client_id="s", body="theirs")
    with django_capture_on_commit_callbacks(execute=True):
        forget_member(member=leaver)
    assert not Member.objects.filter(pk=leaver.pk).exists()
    assert list(Message.objects.values_list("body", flat=True)) == ["theirs"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM chat_message WHERE author_id = %s", [leaver.pk])
        assert cursor.fetchone()[0] == 0


def test_staff_cannot_erase_themselves_here():
    staff = make_staff(Role.MODERATOR)
    with pytest.raises(HearthError):
        forget_member(member=staff)
    assert Member.objects.filter(pk=staff.pk).exists()


def test_staff_member_for_superuser_is_admin(django_user_model):
    user = django_user_model.objects.create_superuser("root", password="long-enough-pw")
    member = member_for_staff_user(user=user)
    assert member.role == Role.ADMIN
    assert member_for_staff_user(user=user).pk == member.pk
