"""The webhook settings on a key's page: /keys/<id>/webhooks/…"""

from django.urls import path

from . import views

app_name = "key_hooks"
urlpatterns = [
    path("secret/", views.save_secret, name="secret"),
    path("reissue/", views.reissue, name="reissue"),
]
