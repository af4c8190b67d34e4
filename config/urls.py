from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin's own log-in form would skip allauth's limits and lock-out: send it to ours
# (allauth's recipe; staff come back to the admin after logging in).
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", include("core.urls")),
    path("accounts/", include("allauth.urls")),
    path("keys/", include("providers.urls")),
    path("keys/<uuid:code>/webhooks/", include("hooks.key_urls")),
    path("hooks/", include("hooks.urls")),
    path("history/views/", include("saved_views.urls")),
    path("history/", include("history.urls")),
    path("history/", include("annotations.urls")),
    path("public/", include("public_links.urls")),
    path("teams/", include("teams.urls")),
    path("preferences/", include("preferences.urls")),
    path("files/", include("archive.urls")),
    path("admin/", admin.site.urls),
]
