from django.urls import path

from . import views

app_name = "saved_views"
urlpatterns = [
    path("", views.to_history, name="list"),
    path("new/", views.create, name="create"),
    path("<uuid:code>/", views.open_view, name="open"),
    path("<uuid:code>/rename/", views.rename, name="rename"),
    path("<uuid:code>/update/", views.update, name="update"),
    path("<uuid:code>/move/", views.move, name="move"),
    path("<uuid:code>/share/", views.share, name="share"),
    path("<uuid:code>/delete/", views.delete, name="delete"),
]
