"""The worker's two group-commit queues (chat/batching.py): posts and joins."""

from __future__ import annotations

from typing import Any

from chat.batching import BatchWriter
from chat.joins import JoinRequest, join_sockets
from chat.services import PostRequest, PostResult, post_messages

post_writer: BatchWriter[PostRequest, PostResult] = BatchWriter(post_messages)
join_writer: BatchWriter[JoinRequest, dict[str, Any]] = BatchWriter(join_sockets)
