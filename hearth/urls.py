from django.contrib import admin
from django.urls import include, path

from frontend import staff_views

urlpatterns = [
    # Staff sign in on one page, with its limit and second factor (frontend/staff_views.py).
    path("admin/login/", staff_views.admin_login),
    path("admin/", admin.site.urls),
    path("", include("rooms.urls")),
    path("", include("hearth.health_urls")),
    path("", include("frontend.urls")),
]
