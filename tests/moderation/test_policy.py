"""The one permission policy (moderation/permissions.py, `can`): every action against every
kind of person, and the session actions against a session's hosts, other staff and members."""

from __future__ import annotations

import pytest

from chat.errors import ErrorCode, HearthError
from chat.models import Member, Role
from moderation.permissions import Action, can, require, speaks_freely
from tests.factories import make_member, make_session, make_staff

pytestmark = pytest.mark.django_db

PEOPLE = {"member": Role.MEMBER, "peer supporter": Role.PEER_SUPPORTER,
          "moderator": Role.MODERATOR, "admin": Role.ADMIN}


def _person(kind: str) -> Member:
    return make_member() if PEOPLE[kind] == Role.MEMBER else make_staff(PEOPLE[kind])


@pytest.mark.parametrize(("action", "allowed"), [
    (Action.WORK_CRISIS_PATH, {"peer supporter", "moderator", "admin"}),
    (Action.HOST_SESSIONS, {"peer supporter", "moderator", "admin"}),
    (Action.MODERATE, {"moderator", "admin"}),
    (Action.JOIN_PAST_CAPACITY, {"peer supporter", "moderator", "admin"}),
])
def test_role_actions(action, allowed):
    assert {kind for kind in PEOPLE if can(_person(kind), action)} == allowed
    assert not can(None, action)


def test_sanctions_from_the_dashboard_never_reach_staff():
    moderator = make_staff(Role.MODERATOR)
    assert can(moderator, Action.SANCTION, target=make_member())
    assert not can(moderator, Action.SANCTION, target=make_staff(Role.PEER_SUPPORTER))
    assert not can(moderator, Action.SANCTION)  # nobody to sanction
    assert not can(make_staff(Role.PEER_SUPPORTER), Action.SANCTION, target=make_member())


def test_a_session_is_run_by_its_hosts_alone():
    co_host, other_staff, member = make_staff(Role.PEER_SUPPORTER), make_staff(), make_member()
    session = make_session(co_hosts=(co_host,))
    host = session.host
    for person, runs in ((host, True), (co_host, True), (other_staff, False), (member, False)):
        assert can(person, Action.RUN_SESSION, session=session) is runs
        assert can(person, Action.SPEAK_FREELY_IN_SESSION, session=session) is runs
        assert speaks_freely(session, person.pk) is runs
    assert not can(host, Action.RUN_SESSION)  # no session named
    assert can(other_staff, Action.JOIN_PAST_CAPACITY, session=session)
    assert can(co_host, Action.JOIN_PAST_CAPACITY, session=session)
    assert not can(member, Action.JOIN_PAST_CAPACITY, session=session)


def test_in_a_session_hosts_sanction_members_but_never_hosts_or_staff():
    co_host, member = make_staff(Role.PEER_SUPPORTER), make_member()
    session = make_session(co_hosts=(co_host,))
    host = session.host
    assert can(host, Action.SANCTION_IN_SESSION, session=session, target=member)
    assert not can(host, Action.SANCTION_IN_SESSION, session=session, target=co_host)
    assert not can(host, Action.SANCTION_IN_SESSION, session=session, target=make_staff())
    assert not can(member, Action.SANCTION_IN_SESSION, session=session, target=make_member())


def test_require_refuses_with_the_code_and_words_it_is_given():
    member = make_member()
    assert require(make_staff(), Action.MODERATE).role == Role.MODERATOR
    with pytest.raises(HearthError) as refused:
        require(member, Action.MODERATE)
    assert refused.value.code == ErrorCode.FORBIDDEN
    with pytest.raises(HearthError) as refused:
        require(member, Action.RUN_SESSION, session=make_session(), code=ErrorCode.NOT_A_HOST,
                detail="Only the hosts.")
    assert (refused.value.code, refused.value.detail) == (ErrorCode.NOT_A_HOST, "Only the hosts.")
    with pytest.raises(HearthError):
        require(None, Action.WORK_CRISIS_PATH)
