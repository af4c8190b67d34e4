from django.contrib import admin

from .models import PublicLink


@admin.register(PublicLink)
class PublicLinkAdmin(admin.ModelAdmin):
    """Which jobs have a public link; the token itself is never shown here (staff could open
    or pass on the page): revoke by deleting the row."""

    list_display = ["job", "created_by", "created"]
    raw_id_fields = ["job", "created_by"]
    fields = ["job", "created_by", "created"]
    readonly_fields = ["job", "created_by", "created"]

    def has_add_permission(self, request):
        return False
