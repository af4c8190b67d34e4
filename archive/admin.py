from django.contrib import admin

from .models import ArchivedFile


@admin.register(ArchivedFile)
class ArchivedFileAdmin(admin.ModelAdmin):
    """Operators see what is archived and why a file failed; files are not edited by hand."""

    list_display = ["code", "job", "role", "position", "kind", "state", "size", "attempts", "next_try", "host"]
    list_filter = ["state", "kind", "role"]
    search_fields = ["code", "job__title", "job__external_id", "host"]
    list_select_related = ["job"]
    raw_id_fields = ["job"]
    readonly_fields = [f.name for f in ArchivedFile._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False
