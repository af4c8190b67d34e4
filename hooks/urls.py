from django.urls import path

from . import views

app_name = "hooks"
urlpatterns = [
    path("<slug:token>/", views.receive, name="receive"),
]
