from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("rooms.urls")),
    path("", include("hearth.health_urls")),
    path("", include("frontend.urls")),
]
