"""Webhooks in the admin, read-only: what arrived and what was refused. Neither the address
token nor the secret is a field of any admin page (the token lets anyone post to the key)."""

from django.contrib import admin

from .models import Event, Hook


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Hook)
class HookAdmin(ReadOnly):
    list_display = ["credential", "issued", "last_event", "rejected", "last_rejected", "last_rejection"]
    list_select_related = ["credential"]
    fields = ["credential", "issued", "secret_last4", "last_event", "rejected", "last_rejected", "last_rejection"]
    search_fields = ["credential__label", "credential__owner__username"]


@admin.register(Event)
class EventAdmin(ReadOnly):
    list_display = ["received", "hook", "kind", "external_id", "signed", "state", "note"]
    list_filter = ["state", "kind", "signed"]
    list_select_related = ["hook__credential"]
    search_fields = ["external_id", "event_id"]
    fields = [
        "hook",
        "event_id",
        "kind",
        "external_id",
        "signed",
        "received",
        "state",
        "processed",
        "note",
        "job",
        "body",
    ]
    raw_id_fields = ["job"]
    date_hierarchy = "received"
