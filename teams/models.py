import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Team(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("teams:detail", args=[self.slug])


class Member(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    team = models.ForeignKey(Team, models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "user__username"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="member_one_row_per_user_and_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class Share(models.Model):
    """A key whose whole history the team's members see (never the key itself)."""

    team = models.ForeignKey(Team, models.CASCADE, related_name="shares")
    credential = models.ForeignKey("providers.Credential", models.CASCADE, related_name="shares")
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "credential"], name="share_one_row_per_team_and_key")]

    def __str__(self) -> str:
        return f"{self.credential.label} shared with {self.team}"


def new_invite_token() -> str:
    return secrets.token_urlsafe(32)


def invite_expiry():
    return timezone.now() + Invite.LIFETIME


class Invite(models.Model):
    """A single-use link that lets whoever opens it join the team with a set role."""

    LIFETIME = timedelta(days=7)

    # The public id for revoking; the token is the secret part of the link.
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token = models.CharField(max_length=64, unique=True, default=new_invite_token, editable=False)
    team = models.ForeignKey(Team, models.CASCADE, related_name="invites")
    role = models.CharField(max_length=10, choices=Member.Role, default=Member.Role.MEMBER)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField(default=invite_expiry)
    used = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Invite to {self.team} as {self.role}"

    # Deliberately no get_absolute_url(): the admin would offer "View on site" and its
    # /admin/r/ redirect, handing the secret link to any staff member.
    @property
    def path(self) -> str:
        return reverse("teams:invite", args=[self.token])

    @property
    def usable(self) -> bool:
        return self.used is None and self.expires > timezone.now()


class AuditEvent(models.Model):
    """Who did what: team changes, shares, and actions taken at a provider. Recorded through
    teams.audit.record(); subjects name keys by label and last four, never by secret."""

    class Verb(models.TextChoices):
        TEAM_CREATE = "team.create", "created the team"
        MEMBER_ADD = "member.add", "added"
        MEMBER_ROLE = "member.role", "changed the role of"
        MEMBER_REMOVE = "member.remove", "removed"
        MEMBER_LEAVE = "member.leave", "left the team"
        INVITE_CREATE = "invite.create", "made an invite link for"
        INVITE_REVOKE = "invite.revoke", "revoked an invite link for"
        INVITE_JOIN = "invite.join", "joined by invite as"
        SHARE_ADD = "share.add", "shared the history of"
        SHARE_REMOVE = "share.remove", "stopped sharing the history of"
        KEY_CHECK = "key.check", "checked the key"
        KEY_SYNC = "key.sync", "asked for a sync of"
        JOB_REFRESH = "job.refresh", "asked for a refresh of"
        JOB_RETRY = "job.retry", "retried"
        JOB_DELETE = "job.delete", "deleted"
        JOB_REMOVE = "job.remove", "removed from Genboard"
        JOB_RENAME = "job.rename", "renamed"

    # Kept when the team is deleted: the admin still shows what happened.
    team = models.ForeignKey(Team, models.SET_NULL, null=True, blank=True, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    # The actor's username when it happened, so the trail survives a deleted account.
    actor_name = models.CharField(max_length=150, blank=True)
    # Not limited to Verb's choices: callers elsewhere may record verbs of their own.
    verb = models.CharField(max_length=40)
    subject = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            # The team page's activity list: a team's newest events.
            models.Index(fields=["team", "-created"], name="auditevent_team_latest"),
            # The admin changelist, newest first, and its date hierarchy.
            models.Index(fields=["-created"], name="auditevent_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or 'someone'} {self.verb_display} {self.subject}".strip()

    @property
    def verb_display(self) -> str:
        try:
            return self.Verb(self.verb).label
        except ValueError:
            return self.verb
