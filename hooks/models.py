import secrets
import uuid
from datetime import timedelta

from django.db import models
from django.urls import reverse
from django.utils import timezone

from history.models import Job
from providers.fields import EncryptedSecretField
from providers.models import Credential


def new_token() -> str:
    # 256 random bits, URL-safe: the address is the only check on unsigned Apikley callbacks.
    return secrets.token_urlsafe(32)


class Hook(models.Model):
    """A key's callback address, `/hooks/<token>/`, the secret its calls are signed with, and
    what arrived there (accepted events are `Event` rows; rejected calls only counted)."""

    credential = models.OneToOneField(Credential, models.CASCADE, related_name="hook")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    issued = models.DateTimeField(default=timezone.now)
    # Apikley: the account's webhook HMAC key; AudioPod: the endpoint's signing secret.
    # Encrypted like the API key; only its last four characters are ever shown.
    secret = EncryptedSecretField(null=True, blank=True)
    secret_last4 = models.CharField(max_length=4, blank=True)
    # Written by the worker as it processes events (never on the request path): the sync
    # polls this key's jobs less often while webhooks arrive (hooks.polling).
    last_event = models.DateTimeField(null=True, blank=True)
    # Calls that changed nothing (unsigned, badly signed, stale, unreadable), since the
    # address was issued, with the latest reason.
    rejected = models.PositiveIntegerField(default=0)
    last_rejected = models.DateTimeField(null=True, blank=True)
    last_rejection = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"Webhooks of {self.credential}"

    def get_absolute_url(self) -> str:
        return reverse("hooks:receive", args=[self.token])

    @property
    def has_secret(self) -> bool:
        return self.secret is not None

    def set_secret(self, plaintext: str | None) -> None:
        self.secret = plaintext or None
        self.secret_last4 = plaintext[-4:] if plaintext else ""

    def reissue(self) -> None:
        """A new address; the old one stops working at once. Counters start afresh."""
        self.token = new_token()
        self.issued = timezone.now()
        self.rejected, self.last_rejected, self.last_rejection = 0, None, ""

    def latest_event(self) -> "Event | None":
        return self.events.order_by("-received").first()


class Event(models.Model):
    """One accepted webhook call, stored before it is answered and processed by a worker."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        WORKING = "working", "Being processed"
        DONE = "done", "Done"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    # Queued events older than this, and claimed ones a worker held this long, are queued again
    # by the sweep (a lost task loses no event).
    REQUEUE_AFTER = timedelta(minutes=1)
    STUCK_AFTER = timedelta(minutes=10)
    # Kept this long (duplicates are recognised within it), then pruned by the sweep.
    KEEP = timedelta(days=7)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hook = models.ForeignKey(Hook, models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=60)
    external_id = models.CharField(max_length=200, blank=True)
    signed = models.BooleanField(default=True)
    body = models.JSONField(default=dict)
    received = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State, default=State.QUEUED)
    claimed = models.DateTimeField(null=True, blank=True)
    processed = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    job = models.ForeignKey(Job, models.SET_NULL, null=True, blank=True, related_name="webhook_events")

    class Meta:
        constraints = [
            # Duplicates (provider retries, replays) are dropped: one row per event and key.
            models.UniqueConstraint(fields=["hook", "event_id"], name="event_once_per_hook"),
        ]
        indexes = [
            # "Last webhook" on the key's page; pruning.
            models.Index(fields=["hook", "-received"], name="event_latest_per_hook"),
            # The sweep: events not processed yet.
            models.Index(
                fields=["received"],
                name="event_unprocessed",
                condition=models.Q(state__in=["queued", "working"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id} ({self.get_state_display()})"
