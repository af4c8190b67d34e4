from django.urls import path

from . import views

app_name = "annotations"
urlpatterns = [
    path("<uuid:code>/star/", views.star, name="star"),
    path("<uuid:code>/tags/", views.tag_add, name="tag_add"),
    path("<uuid:code>/tags/<uuid:tag>/remove/", views.tag_remove, name="tag_remove"),
    path("<uuid:code>/note/", views.note, name="note"),
]
