"""Jobs and sync runs in the admin, built to stay quick at a million jobs: no COUNT of the
whole table, no deep OFFSETs, no query per row, no facet counts, sorting only on the indexed
`created`, and a date hierarchy read from two index lookups instead of a DISTINCT."""

import json
from datetime import date, datetime, timedelta

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from .models import Job, JobQuerySet, SyncRun


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (a LIMITed subquery that stops early), so a changelist over a
    huge table neither COUNTs it all nor offers pages a million rows deep. Past CAP, filters
    and search narrow the list (templates/admin/history/job/pagination.html says so)."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count() if hasattr(self.object_list, "query") else len(self.object_list)

    @property
    def capped(self) -> bool:
        return self.count > self.CAP

    @cached_property
    def num_pages(self) -> int:
        pages = super().num_pages
        return min(pages, -(-self.CAP // self.per_page))


def periods(first: date, last: date, kind: str) -> list[date]:
    """Every year, month or day from `first` to `last`, both included."""
    if kind == "year":
        return [date(year, 1, 1) for year in range(first.year, last.year + 1)]
    if kind == "month":
        months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
        return [date(m // 12, m % 12 + 1, 1) for m in months]
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class CheapDatesQuerySet(JobQuerySet):
    """The admin's date hierarchy asks `datetimes(field, kind)`, a SELECT DISTINCT over every
    matching row (seconds at a million jobs). This answers from MIN and MAX instead: every
    period between the first and the last job, some of which may hold no job."""

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        zone = tzinfo or timezone.get_current_timezone()
        first, last = (timezone.localtime(bounds[k], zone).date() for k in ("first", "last"))
        result = [datetime.combine(day, datetime.min.time(), tzinfo=zone) for day in periods(first, last, kind)]
        return result if order == "ASC" else result[::-1]


def pretty_json(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "provider",
        "kind",
        "status",
        "owner",
        "key",
        "created",
        "stale",
    ]
    list_filter = ["provider", "kind", "status", "stale"]
    list_select_related = ["credential__owner"]
    search_fields = ["title", "=external_id", "=credential__owner__username"]
    search_help_text = "Title (contains), exact external id, or exact owner username."
    date_hierarchy = "created"
    ordering = ["-created", "-id"]
    # Sorting on anything else would sort the whole table: `created` has an index.
    sortable_by = ["created"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    # Facet counts would COUNT the whole table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    fieldsets = [
        (None, {"fields": ["code", "credential", "provider", "kind", "external_id", "title", "prompt", "model"]}),
        (
            "Status",
            {
                "fields": [
                    "status",
                    "provider_status",
                    "error",
                    "error_code",
                    "created",
                    "completed",
                    "credits_used",
                    "credits_refunded",
                ]
            },
        ),
        (
            "What it made, and the provider's record",
            {"fields": ["outputs_pretty", "inputs_pretty", "details_pretty", "parent_ref", "raw_pretty"]},
        ),
        ("Polling", {"fields": ["imported", "seen", "next_poll", "poll_attempts", "polling_since", "stale"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]
    # A job's page on the site is for those who may see it, which an operator usually is not.
    view_on_site = False
    actions = ["mark_for_refresh"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return CheapDatesQuerySet(model=queryset.model, query=queryset.query, using=queryset._db)

    def has_add_permission(self, request):
        return False  # jobs come from the providers

    def has_change_permission(self, request, obj=None):
        return False  # ditto: operators look, and ask for a refresh

    def has_refresh_permission(self, request) -> bool:
        return request.user.has_perm("history.change_job")

    @admin.display(description="Owner")
    def owner(self, obj):
        return obj.credential.owner.get_username()

    @admin.display(description="Key")
    def key(self, obj):
        return obj.credential.label

    @admin.display(description="Outputs")
    def outputs_pretty(self, obj):
        return pretty_json(obj.outputs)

    @admin.display(description="Inputs")
    def inputs_pretty(self, obj):
        return pretty_json(obj.inputs)

    @admin.display(description="Details")
    def details_pretty(self, obj):
        return pretty_json(obj.details)

    @admin.display(description="Raw record")
    def raw_pretty(self, obj):
        return pretty_json(obj.raw)

    @admin.action(description="Mark for refresh", permissions=["refresh"])
    def mark_for_refresh(self, request, queryset):
        """Unfinished jobs are polled on the next sync of their key, even those given up on."""
        count = queryset.filter(status__in=Job.UNFINISHED).update(
            next_poll=timezone.now(), poll_attempts=0, stale=False
        )
        self.message_user(request, f"{count} unfinished job(s) will be refreshed on the next sync.", messages.SUCCESS)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "credential",
        "owner",
        "trigger",
        "state",
        "created",
        "started",
        "finished",
        "pages",
        "requests",
        "new",
        "updated",
        "unfinished",
        "message",
    ]
    list_filter = ["state", "trigger", "credential__provider"]
    list_select_related = ["credential__owner"]
    search_fields = ["=credential__owner__username", "credential__label", "message"]
    date_hierarchy = "created"
    ordering = ["-created"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request):
        return False

    @admin.display(description="Owner")
    def owner(self, obj):
        return obj.credential.owner.get_username()

    def has_change_permission(self, request, obj=None):
        return False
