from django.urls import path
from django.views.generic import RedirectView

from . import health

urlpatterns = [
    path("", RedirectView.as_view(url="/history/", permanent=False), name="home"),
    path("healthz", health.healthz, name="healthz"),
]
