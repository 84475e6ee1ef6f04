from django.urls import path

from rooms import api

app_name = "rooms"

urlpatterns = [
    path("api/rooms/", api.room_directory, name="api-directory"),
]
