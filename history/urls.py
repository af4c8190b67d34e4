from django.urls import path

from . import bulk_actions, more_filters, removal, views, views_exports

app_name = "history"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("export.json", views.export_json, name="export_json"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("exports/<uuid:code>/", views_exports.export_page, name="export"),
    path("exports/<uuid:code>/download/", views_exports.export_download, name="export_download"),
    path("bulk/", bulk_actions.bulk, name="bulk"),
    path("bulk/tags/", bulk_actions.tag_names, name="bulk_tags"),
    path("filters/", more_filters.grid, name="more_filters"),
    path("import/", views.import_tasks, name="import"),
    path("sync/", views.sync_all, name="sync_all"),
    path("sync/<uuid:code>/", views.sync_now, name="sync_now"),
    path("sync/runs/<uuid:code>/", views.sync_progress, name="sync_progress"),
    path("<uuid:code>/", views.job_detail, name="detail"),
    path("<uuid:code>/row/", views.job_row, name="row"),
    path("<uuid:code>/refresh/", views.job_refresh, name="refresh"),
    path("<uuid:code>/rename/", views.job_rename, name="rename"),
    path("<uuid:code>/retry/", views.job_retry, name="retry"),
    path("<uuid:code>/delete/", views.job_delete, name="delete"),
    path("<uuid:code>/remove/", removal.job_remove, name="remove"),
]
