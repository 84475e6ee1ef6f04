"""The thread a worker's socket work shares for the database, and the connection it keeps.

Channels' `database_sync_to_async` closes the thread's connection before and after every
call (CONN_MAX_AGE is 0: see settings). The posts and joins written in that thread then
opened a new one: on PostgreSQL a new server process, which the fallback watch (every 5 s)
and the heartbeat (every 20 s) forced over and over, each time in front of a batch of posts.
Everything the sockets ask of the database goes through `database_thread` instead, which
keeps the connection and replaces one that failed, or that has been idle long enough for the
database to have restarted or a firewall to have dropped it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

P = ParamSpec("P")
T = TypeVar("T")

# A connection idle this long is asked one `SELECT 1` before its next use. Busy, a worker
# never pays it; after a quiet spell it costs a round trip, where a dead connection would
# cost the first request an error.
CHECK_AFTER_IDLE_SECONDS = 30.0

_this_thread = threading.local()


def database_thread(func: Callable[P, T]) -> Callable[P, Coroutine[Any, Any, T]]:
    """`func` as a coroutine function that runs in the sockets' database thread (the one
    thread-sensitive thread) on its kept connection."""

    @functools.wraps(func)
    def on_the_kept_connection(*args: P.args, **kwargs: P.kwargs) -> T:
        replace_a_failed_connection()
        try:
            return func(*args, **kwargs)
        finally:
            _this_thread.last_used = time.monotonic()

    return sync_to_async(on_the_kept_connection, thread_sensitive=True)


def replace_a_failed_connection() -> None:
    """Close this thread's connection if it no longer answers (the database restarted, a
    network cut), once a statement on it has failed or it has been idle a while; the next
    statement opens a new one."""
    if connection.connection is None:
        return
    idle = time.monotonic() - getattr(_this_thread, "last_used", 0.0)
    if connection.errors_occurred or idle > CHECK_AFTER_IDLE_SECONDS:
        if connection.is_usable():
            connection.errors_occurred = False
        else:
            connection.close()
