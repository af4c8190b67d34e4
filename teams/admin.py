from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet

from .models import AuditEvent, Invite, Member, Share, Team


class MemberFormSet(BaseInlineFormSet):
    def clean(self):
        """The admin keeps the rule the team pages keep: a team always has an owner."""
        super().clean()
        if any(self.errors) or not self.instance.pk:
            return
        roles = [
            form.cleaned_data.get("role")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if Member.Role.OWNER not in roles:
            raise ValidationError("A team must keep at least one owner.")


class MemberInline(admin.TabularInline):
    model = Member
    formset = MemberFormSet
    fields = ["user", "role", "created"]
    readonly_fields = ["created"]
    autocomplete_fields = ["user"]
    extra = 0


class ShareInline(admin.TabularInline):
    """Shares are made by a key's owner on the team's page; operators may only end them."""

    model = Share
    fields = ["credential", "owner", "shared_by", "created"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("credential__owner", "shared_by")

    @admin.display(description="Key owner")
    def owner(self, obj):
        return obj.credential.owner


class InviteInline(admin.TabularInline):
    model = Invite
    # Never the token: an operator has no business joining teams by link.
    fields = ["role", "created_by", "created", "expires", "used", "used_by"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "share_count", "created"]
    search_fields = ["name", "slug", "=members__user__username"]
    date_hierarchy = "created"
    fields = ["name", "slug", "created"]
    readonly_fields = ["created"]
    prepopulated_fields = {"slug": ["name"]}
    view_on_site = False  # team pages are for members: an operator would get a 404
    inlines = [MemberInline, ShareInline, InviteInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("members", distinct=True), share_count=Count("shares", distinct=True))
        )

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description="Shared keys", ordering="share_count")
    def share_count(self, obj):
        return obj.share_count


class VerbFilter(admin.SimpleListFilter):
    # The known verbs, without a DISTINCT over the whole trail.
    title = "verb"
    parameter_name = "verb"

    def lookups(self, request, model_admin):
        return [(value, value) for value in AuditEvent.Verb.values]

    def queryset(self, request, queryset):
        return queryset.filter(verb=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created", "team", "actor_name", "verb", "subject"]
    list_filter = [VerbFilter]
    list_select_related = ["team"]
    search_fields = ["=actor_name", "subject", "team__name"]
    date_hierarchy = "created"
    fields = ["created", "team", "actor", "actor_name", "verb", "subject"]
    readonly_fields = fields
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
