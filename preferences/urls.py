from django.urls import path

from . import views

app_name = "preferences"
urlpatterns = [
    path("history/", views.history_preferences, name="history"),
    path("history/strip/", views.strip, name="strip"),
    path("history/notices/dismiss/", views.dismiss_notices, name="dismiss_notices"),
]
