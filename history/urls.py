from django.urls import path

from . import views

app_name = "history"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("export.json", views.export_json, name="export_json"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("import/", views.import_tasks, name="import"),
    path("sync/<uuid:code>/", views.sync_now, name="sync_now"),
    path("sync/runs/<uuid:code>/", views.sync_progress, name="sync_progress"),
    path("<uuid:code>/", views.job_detail, name="detail"),
]
