"""The Channels tutorial's chat consumer, speaking the benchmark's frame shapes.

Differences from the tutorial, all needed by the benchmark and none costing per delivery more
than the tutorial does: a `welcome` frame after accepting (the moment the benchmark counts a
socket as connected), and the frames carry `client_id` (to time each delivery) beside `body`.
"""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer


class ChatConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        self.room_group_name = f"chat_{self.scope['url_route']['kwargs']['room_name']}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "welcome"}))

    async def disconnect(self, close_code: int) -> None:
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = json.loads(text_data or "{}")
        await self.channel_layer.group_send(self.room_group_name, {
            "type": "chat.message", "client_id": frame["client_id"], "body": frame["body"]})

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({
            "type": "message", "client_id": event["client_id"], "body": event["body"]}))
