from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("core.urls")),
    path("accounts/", include("allauth.urls")),
    path("keys/", include("providers.urls")),
    path("history/", include("history.urls")),
    path("teams/", include("teams.urls")),
    path("files/", include("archive.urls")),
    path("admin/", admin.site.urls),
]
