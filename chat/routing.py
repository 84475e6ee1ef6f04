from django.urls import re_path

from chat.consumers import RoomConsumer
from moderation.consumers import StaffConsumer

websocket_urlpatterns = [
    re_path(r"^ws/rooms/(?P<room_slug>[-a-zA-Z0-9_]+)/$", RoomConsumer.as_asgi()),
    re_path(r"^ws/staff/$", StaffConsumer.as_asgi()),
]
