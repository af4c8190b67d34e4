from django.urls import path

from . import views

app_name = "preferences"
urlpatterns = [
    path("history/", views.history_preferences, name="history"),
]
