from django.urls import path

from . import views

app_name = "archive"
urlpatterns = [
    path("zip/", views.bulk_zip, name="zip"),
    path("<uuid:code>/", views.archived_file, name="file"),
]
