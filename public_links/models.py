"""A public, read-only link to one job's page: made and revoked by the job's owner (the key's
owner), opened by anyone who has it, without logging in."""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What a link is looked up by. An index lookup compares the token with stored ones and
    may take longer the more leading characters match; comparing SHA-256 digests instead
    tells a timer nothing about the token (a guess's digest shares nothing with it)."""
    return hashlib.sha256(token.encode()).hexdigest()


class PublicLinkQuerySet(models.QuerySet):
    def by_token(self, token: str) -> "PublicLinkQuerySet":
        return self.filter(digest=digest(token))


class PublicLink(models.Model):
    """One link per job at most; revoking deletes it (its address then answers 404, and a new
    link has a new token)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    job = models.OneToOneField("history.Job", models.CASCADE, related_name="public_link")
    # The token is kept so the owner can copy the link again from the job's page (like a
    # key's webhook address); visitors are matched by its digest.
    token = models.CharField(max_length=64, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    objects = PublicLinkQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Public link to job {self.job_id}"

    def save(self, *args, **kwargs):
        if not self.token:
            self.token = new_token()
        self.digest = digest(self.token)
        super().save(*args, **kwargs)

    # Deliberately no get_absolute_url(): the admin would offer "View on site" and hand the
    # secret address to any staff member (as teams.models.Invite).
    @property
    def path(self) -> str:
        return reverse("public_links:page", args=[self.token])
