from django.urls import re_path

from chat.consumers import RoomConsumer

websocket_urlpatterns = [
    re_path(r"^ws/rooms/(?P<room_slug>[-a-zA-Z0-9_]+)/$", RoomConsumer.as_asgi()),
]
