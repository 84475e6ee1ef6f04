"""The thread a worker's socket work shares for the database, and the connection it keeps.

Channels' `database_sync_to_async` closes the thread's connection before and after every
call (CONN_MAX_AGE is 0: see settings). The posts and joins written in that thread then
opened a new one: on PostgreSQL a new server process, which the fallback watch (every 5 s)
and the heartbeat (every 20 s) forced over and over, each time in front of a batch of posts.
Everything the sockets ask of the database goes through `database_thread` instead, which
keeps the connection and replaces one that failed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

P = ParamSpec("P")
T = TypeVar("T")


def database_thread(func: Callable[P, T]) -> Callable[P, Coroutine[Any, Any, T]]:
    """`func` as a coroutine function that runs in the sockets' database thread (the one
    thread-sensitive thread) on its kept connection."""

    @functools.wraps(func)
    def on_the_kept_connection(*args: P.args, **kwargs: P.kwargs) -> T:
        replace_a_failed_connection()
        return func(*args, **kwargs)

    return sync_to_async(on_the_kept_connection, thread_sensitive=True)


def replace_a_failed_connection() -> None:
    """Close this thread's connection if a statement on it failed and it no longer answers
    (the database restarted, a network cut); the next statement opens a new one."""
    if connection.connection is not None and connection.errors_occurred:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()
