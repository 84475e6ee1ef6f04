from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import staff_views, views
from rooms import views as session_views

app_name = "frontend"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("rooms/<slug:slug>/", views.room, name="room"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
    path("source/", views.source_code, name="source-code"),
    path("me/", views.me, name="me"),
    path("me/join/", views.join, name="join"),
    path("me/forget/", views.forget_me, name="forget-me"),
    path("me/export/", views.export_me, name="export-me"),
    path("me/appeal/", views.appeal, name="appeal"),
    path("goodbye/", views.goodbye, name="goodbye"),
    path("moderation/", views.moderation_dashboard, name="moderation"),
    path("sessions/<int:session_id>.ics", session_views.session_calendar,
         name="session-calendar"),
    path("sessions/feedback/", session_views.host_feedback, name="session-feedback"),
    path("sessions/feedback/trends/", session_views.feedback_trends, name="feedback-trends"),
    path("staff/login/", staff_views.StaffLoginView.as_view(), name="staff-login"),
    path("staff/two-factor/", staff_views.two_factor, name="staff-two-factor"),
    path("staff/two-factor/setup/", staff_views.two_factor_setup, name="staff-two-factor-setup"),
    path("staff/logout/", auth_views.LogoutView.as_view(), name="staff-logout"),
]
