from django.urls import path

from . import views

app_name = "public_links"
urlpatterns = [
    path("jobs/<uuid:code>/link/", views.create, name="create"),
    path("jobs/<uuid:code>/link/revoke/", views.revoke, name="revoke"),
    path("<str:token>/", views.page, name="page"),
    path("<str:token>/files/<uuid:code>/", views.file, name="file"),
]
