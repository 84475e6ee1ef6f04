"""Hand-written SQL for the statements every batch of message posts makes.

Through the ORM these cost about 0.4 ms and 0.5 ms of Python each on this project's machine
kind, against 0.03 ms as plain statements. Each statement also costs a round trip to the
database (about 0.3 ms to PostgreSQL here, longer when the worker's core is busy), so each
covers a whole batch: a batch of posts makes the same few statements whatever its size
(docs/benchmarks.md, "Fast path"). Every other query stays in the ORM. The statements use
only portable SQL (PostgreSQL and SQLite ≥ 3.35 both have RETURNING), but for
claim_and_insert_together, which is PostgreSQL's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from chat.models import Member, Message
from rooms.models import Room


@dataclass(frozen=True)
class Senders:
    present: set[int]  # the members not erased
    retried: dict[tuple[int, str], int]  # (member id, client_id) -> the message already stored


def senders(pairs: Sequence[tuple[int, str]]) -> Senders:
    """Which of these (member id, client_id) pairs' members still exist, and which pairs
    name a message already stored (a retry): one statement for a whole batch."""
    wanted = list(dict.fromkeys(pairs))
    if not wanted:
        return Senders(present=set(), retried={})
    members = list(dict.fromkeys(member_id for member_id, _client_id in wanted))
    client_ids = list(dict.fromkeys(client_id for _member_id, client_id in wanted))
    member_table = connection.ops.quote_name(Member._meta.db_table)
    message_table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.id, msg.client_id, msg.id FROM {member_table} m "  # noqa: S608
            f"LEFT JOIN {message_table} msg ON msg.author_id = m.id "
            f"AND msg.client_id IN ({', '.join(['%s'] * len(client_ids))}) "
            f"WHERE m.id IN ({', '.join(['%s'] * len(members))})",
            [*client_ids, *members])
        rows = cursor.fetchall()
    asked = set(wanted)
    return Senders(
        present={int(member_id) for member_id, _client_id, _message_id in rows},
        retried={(int(member_id), str(client_id)): int(message_id)
                 for member_id, client_id, message_id in rows
                 if message_id is not None and (int(member_id), str(client_id)) in asked})


@dataclass(frozen=True)
class Draft:
    """A screened message to store; its seq comes from its room when it is stored."""
    room: Room
    author: Member
    client_id: str
    body: str
    html: str
    status: str
    original_body: str = ""  # the author's words when `body` is masked (chat.models)


def insert_messages(rows: Sequence[tuple[Draft, int]]) -> list[Message]:
    """Insert (draft, seq) rows in one statement, as Message.objects.create would each, and
    return the instances in the same order. The seqs come from rooms.services.claim_seqs."""
    if not rows:
        return []
    created_at = timezone.now()
    stored_at = connection.ops.adapt_datetimefield_value(created_at)
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (room_id, seq, author_id, client_id, body, original_body, "  # noqa: S608
            f"html, status, created_at) VALUES {values} RETURNING id, room_id, seq",
            [value for draft, seq in rows
             for value in (draft.room.pk, seq, draft.author.pk, draft.client_id, draft.body,
                           draft.original_body, draft.html, draft.status, stored_at)])
        ids = _ids_by_room_and_seq(cursor.fetchall())
    if len(ids) != len(rows):  # RETURNING yields every new row; this is a broken database
        raise RuntimeError("INSERT ... RETURNING gave too few rows")
    return [_instance(draft, seq=seq, message_id=ids[(draft.room.pk, seq)],
                      created_at=created_at) for draft, seq in rows]


def claim_and_insert_together(drafts: Sequence[Draft]) -> list[Message | None]:
    """PostgreSQL only: the drafts' seqs claimed (in list order within each room) and the
    drafts inserted by statements sent as one message, so one round trip; outside a
    transaction they are one transaction of their own, with no BEGIN or COMMIT to send.
    None for a draft whose room is gone or closed.

    The same rule as rooms.services.claim_seqs followed by insert_messages: a claim per room,
    in ascending room id order so that two writers never wait for each other's locks; the
    insert reads each room's new last_seq (its row is locked by the claim until the end).
    """
    if not drafts:
        return []
    per_room: dict[int, int] = {}
    ordinals = []
    for draft in drafts:
        per_room[draft.room.pk] = per_room.get(draft.room.pk, 0) + 1
        ordinals.append(per_room[draft.room.pk])
    created_at = timezone.now()
    rooms_table = connection.ops.quote_name(Room._meta.db_table)
    messages_table = connection.ops.quote_name(Message._meta.db_table)
    claims = [f"UPDATE {rooms_table} SET last_seq = last_seq + %s "  # noqa: S608 (no input)
              "WHERE id = %s AND is_active" for _room in per_room]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(drafts))
    insert = (
        f"INSERT INTO {messages_table} (room_id, seq, author_id, client_id, body, "  # noqa: S608
        "original_body, html, status, created_at) SELECT v.room_id, "
        "r.last_seq - v.n + v.ord, v.author_id, v.client_id, v.body, v.original_body, v.html, "
        "v.status, %s::timestamptz "
        f"FROM (VALUES {values}) AS v (room_id, n, ord, author_id, client_id, body, "
        f"original_body, html, status) JOIN {rooms_table} r ON r.id = v.room_id "
        "AND r.is_active "
        "RETURNING id, room_id, seq")
    params: list[Any] = [value for room_id, count in sorted(per_room.items())
                         for value in (count, room_id)]
    params.append(connection.ops.adapt_datetimefield_value(created_at))
    params.extend(value for draft, ordinal in zip(drafts, ordinals, strict=True)
                  for value in (draft.room.pk, per_room[draft.room.pk], ordinal,
                                draft.author.pk, draft.client_id, draft.body,
                                draft.original_body, draft.html, draft.status))
    with connection.cursor() as cursor:
        # Django's psycopg cursor binds parameters on the client and sends the query by the
        # simple protocol, which runs several statements (server-side binding would refuse
        # them); each claim's result comes before the insert's.
        cursor.execute("; ".join([*claims, insert]), params)
        for _claim in claims:
            cursor.nextset()
        ids = _ids_by_room_and_seq(cursor.fetchall())
    first_seqs: dict[int, int] = {}
    for room_id, seq in ids:
        first_seqs[room_id] = min(seq, first_seqs.get(room_id, seq))
    messages: list[Message | None] = []
    for draft, ordinal in zip(drafts, ordinals, strict=True):
        first = first_seqs.get(draft.room.pk)
        if first is None:
            messages.append(None)  # no row came back for the room: it is gone or closed
            continue
        seq = first + ordinal - 1
        messages.append(_instance(draft, seq=seq, message_id=ids[(draft.room.pk, seq)],
                                  created_at=created_at))
    return messages


def _ids_by_room_and_seq(returned: Sequence[tuple[int, int, int]]) -> dict[tuple[int, int], int]:
    # The order of RETURNING rows is not promised; (room, seq) is unique.
    return {(int(room_id), int(seq)): int(message_id) for message_id, room_id, seq in returned}


def _instance(draft: Draft, *, seq: int, message_id: int, created_at: datetime) -> Message:
    message = Message(id=message_id, room=draft.room, seq=seq, author=draft.author,
                      client_id=draft.client_id, body=draft.body,
                      original_body=draft.original_body, html=draft.html,
                      status=draft.status, created_at=created_at)
    message._state.adding = False
    message._state.db = connection.alias
    return message
