from django.contrib import admin

from .models import HistoryPreferences


@admin.register(HistoryPreferences)
class HistoryPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "layout", "strip_folded", "updated"]
    list_filter = ["layout", "strip_folded"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
