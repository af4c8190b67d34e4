from django.urls import path

from archive.views import key_archive

from . import views, views_balance

app_name = "providers"
urlpatterns = [
    path("", views.key_list, name="list"),
    path("new/", views.key_new, name="new"),
    path("<uuid:code>/", views.key_detail, name="detail"),
    path("<uuid:code>/check/", views.key_check, name="check"),
    path("<uuid:code>/delete/", views.key_delete, name="delete"),
    path("<uuid:code>/archive/", key_archive, name="archive"),
    path("<uuid:code>/balance/", views_balance.set_threshold, name="balance_threshold"),
]
