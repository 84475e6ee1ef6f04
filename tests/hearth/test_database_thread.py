"""database_thread: the sockets' database calls share one thread and keep its connection,
and a connection that failed is replaced."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection

from hearth import database_thread as database_thread_module
from hearth.database_thread import database_thread

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _which() -> tuple[int, object]:
    """This thread, and the driver connection under Django's (opened if need be; the object
    itself, so that a new one cannot reuse a freed one's id)."""
    connection.ensure_connection()
    return threading.get_ident(), connection.connection


def _fail_a_statement() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM no_such_table")


def _break_the_connection() -> None:
    """What a database restart does to a kept connection: it stops answering."""
    connection.ensure_connection()
    connection.connection.close()
    connection.errors_occurred = True


async def test_calls_share_one_thread_and_keep_its_connection():
    first = await database_thread(_which)()
    second = await database_thread(_which)()
    assert first == second
    assert first[0] != threading.get_ident()  # not the event loop's thread


async def test_a_failed_statement_keeps_a_connection_that_still_answers():
    before = await database_thread(_which)()
    with pytest.raises(DatabaseError):
        await database_thread(_fail_a_statement)()
    assert await database_thread(_which)() == before
    assert not await database_thread(lambda: connection.errors_occurred)()


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="a connection to an SQLite file does not stop answering, and Django "
                           "counts it usable always; the PostgreSQL pass runs this")
async def test_a_connection_that_no_longer_answers_is_replaced_before_the_next_call():
    before = await database_thread(_which)()
    await database_thread(_break_the_connection)()
    after = await database_thread(_which)()
    assert after[0] == before[0] and after[1] is not before[1]
    assert await database_thread(lambda: connection.is_usable())()


async def test_arguments_and_results_pass_through():
    def add(a: int, *, b: int) -> int:
        return a + b

    assert await database_thread(add)(2, b=3) == 5


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _terminate(pid: int) -> None:
    """What a PostgreSQL restart does to a kept connection, done from another connection
    (another thread's)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        connection.close()


only_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the server ends the connection here, which only PostgreSQL does; the PostgreSQL "
           "pass runs this")


@only_postgresql
async def test_a_connection_the_server_ended_during_a_quiet_spell_is_replaced_unseen(
        monkeypatch):
    before = await database_thread(_backend_pid)()
    await sync_to_async(_terminate, thread_sensitive=False)(before)
    monkeypatch.setattr(database_thread_module, "CHECK_AFTER_IDLE_SECONDS", 0.0)
    after = await database_thread(_backend_pid)()  # no error: checked before use
    assert after != before


@only_postgresql
async def test_a_connection_the_server_ended_while_busy_fails_one_call_and_is_replaced():
    before = await database_thread(_backend_pid)()
    await sync_to_async(_terminate, thread_sensitive=False)(before)
    with pytest.raises(DatabaseError):
        await database_thread(_backend_pid)()  # used a moment ago: not checked first
    after = await database_thread(_backend_pid)()
    assert after != before
