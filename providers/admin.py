"""Keys in the admin: everything about a key except its secret.

The secret is not a field of any admin form, list, filter, search or lookup here: it is
never decrypted, shown or editable, even for superusers. Keys are added by their owners
(/keys/new/); operators check, re-sync, relabel or delete them.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from history.models import SyncRun
from history.tasks import enqueue_sync
from teams import audit

from .models import Credential

# The provider is asked synchronously, in the admin's request: keep a selection small.
CHECK_LIMIT = 25
SECRET_FIELD = "secret"  # noqa: S105  (the field's name, not a secret)


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    # No job count per key: it would read every job. The change page links to the key's jobs.
    list_display = [
        "label",
        "provider",
        "owner",
        "last4_display",
        "status",
        "last_error_short",
        "checked",
        "last_sync",
        "sync_error_short",
    ]
    list_filter = ["provider", "status"]
    list_select_related = ["owner"]
    search_fields = ["label", "owner__username", "owner__email", "=last4"]
    date_hierarchy = "created"
    ordering = ["-created"]
    exclude = [SECRET_FIELD]
    fieldsets = [
        (None, {"fields": ["code", "owner", "provider", "label", "last4_display", "created"]}),
        ("Provider check", {"fields": ["status", "last_error", "balance", "checked"]}),
        (
            "Sync",
            {
                "fields": [
                    "jobs_link",
                    "last_sync",
                    "sync_error",
                    "next_sync",
                    "paused_until",
                    "failures",
                    "lease_until",
                    "enqueued",
                ]
            },
        ),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"] if name != "label"]
    actions = ["check_now", "resync"]
    view_on_site = False  # a key's page is its owner's alone: operators would get a 404

    def has_add_permission(self, request):
        return False  # a key needs a secret, which only its owner types (/keys/new/)

    def lookup_allowed(self, lookup, value, request):
        # No filtering on the ciphertext through the changelist's query string.
        if lookup.split("__")[0] == SECRET_FIELD:
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="Key", ordering="last4")
    def last4_display(self, obj):
        return f"…{obj.last4}"

    @admin.display(description="Last error")
    def last_error_short(self, obj):
        return obj.last_error[:80]

    @admin.display(description="Sync error")
    def sync_error_short(self, obj):
        return obj.sync_error[:80]

    @admin.display(description="History")
    def jobs_link(self, obj):
        query = f"?credential={obj.pk}"
        return format_html(
            '<a href="{}">Jobs of this key</a> · <a href="{}">Its sync runs</a>',
            reverse("admin:history_job_changelist") + query,
            reverse("admin:history_syncrun_changelist") + query,
        )

    @admin.action(description="Check key now", permissions=["change"])
    def check_now(self, request, queryset):
        if queryset.count() > CHECK_LIMIT:
            self.message_user(request, f"Select at most {CHECK_LIMIT} keys to check at once.", messages.ERROR)
            return
        outcome = {}
        for credential in queryset.select_related("owner"):
            credential.check_with_provider()
            audit.record(request.user, audit.Verb.KEY_CHECK, subject=credential)
            outcome[credential.get_status_display()] = outcome.get(credential.get_status_display(), 0) + 1
        summary = ", ".join(f"{status}: {count}" for status, count in sorted(outcome.items()))
        self.message_user(request, f"Checked {sum(outcome.values())} key(s). {summary}.", messages.SUCCESS)

    @admin.action(description="Re-sync selected keys", permissions=["change"])
    def resync(self, request, queryset):
        queued, skipped = 0, 0
        for credential in queryset:
            if not credential.usable:
                skipped += 1
                continue
            enqueue_sync(credential, SyncRun.Trigger.MANUAL)
            audit.record(request.user, audit.Verb.KEY_SYNC, subject=credential)
            queued += 1
        self.message_user(request, f"Queued a sync of {queued} key(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} rejected or undecryptable key(s): their owners must enter them again.",
                messages.WARNING,
            )
