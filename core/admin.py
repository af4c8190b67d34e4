"""People in the admin: Django's user admin, plus their keys and teams at a glance."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from providers.models import Credential
from teams.models import Member

User = get_user_model()


class CredentialInline(admin.TabularInline):
    """A person's keys, read-only and without their secrets; each links to its admin page."""

    model = Credential
    fields = ["label", "provider", "last4", "status", "checked", "last_sync"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    view_on_site = False  # a key's page is its owner's alone
    can_delete = False
    verbose_name_plural = "API keys (secrets are never shown)"

    def has_add_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Member
    fk_name = "user"
    fields = ["team", "role", "created"]
    readonly_fields = fields
    extra = 0
    show_change_link = False
    can_delete = False
    verbose_name = "team membership"

    def has_add_permission(self, request, obj=None):
        return False  # memberships are changed on the team's admin page, which keeps an owner

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team")


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
        "key_count",
        "team_count",
    ]
    date_hierarchy = "date_joined"
    inlines = [CredentialInline, MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(key_count=Count("credentials", distinct=True), team_count=Count("memberships", distinct=True))
        )

    @admin.display(description="Keys", ordering="key_count")
    def key_count(self, obj):
        return obj.key_count

    @admin.display(description="Teams", ordering="team_count")
    def team_count(self, obj):
        return obj.team_count
