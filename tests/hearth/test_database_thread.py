"""database_thread: the sockets' database calls share one thread and keep its connection,
and a connection that failed is replaced."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection

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
