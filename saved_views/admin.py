from django.contrib import admin

from .models import SavedView


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "team", "position", "updated"]
    search_fields = ["name", "user__username", "team__name"]
    raw_id_fields = ["user", "team"]
    readonly_fields = ["code", "created", "updated"]
