import functools
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from . import crypto
from .fields import EncryptedSecretField
from .fingerprint import fingerprint
from .http import OutOfCredits, ProviderError
from .registry import CHOICES, PROVIDERS


class CredentialQuerySet(models.QuerySet):
    def owned_by(self, user) -> "CredentialQuerySet":
        """Keys whose pages and secrets are this person's: their own, nobody else's."""
        return self.filter(owner=user) if user.is_authenticated else self.none()

    def history_visible_to(self, user) -> "CredentialQuerySet":
        """Keys whose history this person may see: their own, plus keys shared with a team
        they belong to. Job.objects.visible_to() and every history view build on this."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(pk__in=RawSQL(_visible_keys_sql(), [user.pk, user.pk]))  # noqa: S611 (see below)


@functools.cache
def _visible_keys_sql() -> str:
    """The ids of the keys a person sees: theirs, and those their teams' shares name. Both
    ways in are index lookups (the person's keys; the shares of their teams), joined by id: an
    OR across LEFT JOINs read every key of everyone, and needed a DISTINCT, each time it ran,
    several times in every history query, once per key walked.

    Written in SQL (each table's name from Django's metadata, the person a parameter) rather
    than as two querysets united: a history page asks for these keys three times, and
    compiling that union was a millisecond of CPU each time (bench/pages_bench.py). The share
    is joined to the membership directly, without the key and team rows the ORM's lookups
    joined through (its foreign keys hold them). tests/test_teams.py holds it to the rule."""
    share = Credential._meta.get_field("shares").related_model
    member = share._meta.get_field("team").related_model._meta.get_field("members").related_model
    quote = connection.ops.quote_name

    def column(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    keys, shares, members = (quote(model._meta.db_table) for model in (Credential, share, member))
    shared, team = column(share, "credential"), column(share, "team")
    return (
        f"SELECT {column(Credential, 'id')} FROM {keys} WHERE {column(Credential, 'owner')} = %s"  # noqa: S608 (names from Django's metadata; the person is a parameter)
        f" UNION ALL SELECT share.{shared} FROM {shares} share"
        f" JOIN {members} member ON member.{column(member, 'team')} = share.{team}"
        f" WHERE member.{column(member, 'user')} = %s"
    )


class Credential(models.Model):
    """A person's API key for one provider, encrypted at rest, never shown again."""

    class Status(models.TextChoices):
        UNCHECKED = "unchecked", "Not checked"
        OK = "ok", "Working"
        REJECTED = "rejected", "Rejected"
        # The stored secret can no longer be decrypted (its encryption key is gone).
        REENTER = "reenter", "Re-enter"
        # The provider knows the key but says the account has no credits left: synced hourly
        # until a check or a sync finds credits again (OUT_OF_CREDITS_PAUSE).
        OUT_OF_CREDITS = "nocredits", "Out of credits"

    # How long a key that is out of credits waits between syncs (its owner's check or save
    # tries at once).
    OUT_OF_CREDITS_PAUSE = timedelta(hours=1)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="credentials")
    provider = models.CharField(max_length=20, choices=CHOICES)
    label = models.CharField(max_length=100)
    secret = EncryptedSecretField()
    last4 = models.CharField(max_length=4)
    # providers.fingerprint of the secret: the same secret is refused twice. Empty for a row
    # whose secret could not be decrypted when fingerprints were introduced.
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.UNCHECKED)
    checked = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # What the last successful check said, e.g. "1,250 credits".
    balance = models.CharField(max_length=100, blank=True)
    # Copy this key's finished media into Genboard's storage (archive app); the owner may turn it off.
    archive = models.BooleanField(default=True)
    # What the key has left at the provider (providers/balances.py), read by the sync at most
    # every few minutes: credits, or dollars (AudioPod's wallet, with what it has spent).
    balance_amount = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    balance_unit = models.CharField(max_length=10, blank=True)
    balance_spent = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    balance_checked = models.DateTimeField(null=True, blank=True)
    # The owner's threshold: below it, the keys list, the key page and the history warn.
    low_balance_below = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    # Sync bookkeeping (history/sync.py).
    # When to read the newest history again; null means as soon as possible.
    next_sync = models.DateTimeField(null=True, blank=True)
    # Waiting out a provider's Retry-After, or backing off after failures.
    paused_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    sync_error = models.CharField(max_length=500, blank=True)
    last_sync = models.DateTimeField(null=True, blank=True)
    # Per history stream: {"resume": page index} while the first backfill is under way,
    # {"done": true} once it reached the end.
    cursor = models.JSONField(default=dict, blank=True)
    # One worker per key at a time: a worker holds the lease until it finishes or it expires.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    # A sync task is queued for this key (the dispatcher queues at most one).
    enqueued = models.DateTimeField(null=True, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["provider", "label"]
        constraints = [
            # The keys page tells keys apart by label.
            models.UniqueConstraint(fields=["owner", "label"], name="credential_label_unique_per_owner"),
        ]
        # No unique constraint on the fingerprint: rows saved twice before fingerprints existed
        # must survive the migration (their owner deletes one); the key forms refuse new ones.
        indexes = [
            # The key forms: does this person already have this secret for this provider?
            models.Index(fields=["owner", "provider", "fingerprint"], name="credential_same_secret"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_provider_display()} …{self.last4})"

    def get_absolute_url(self) -> str:
        return reverse("providers:detail", args=[self.code])

    @property
    def usable(self) -> bool:
        """False once the provider refused the key or it cannot be decrypted: no more calls
        with it until its owner saves it again."""
        return self.status not in (self.Status.REJECTED, self.Status.REENTER)

    def set_secret(self, plaintext: str) -> None:
        """Store a new secret; the key is unchecked until the provider has been asked, and
        syncing resumes at once if it had stopped."""
        self.secret = plaintext
        self.last4 = plaintext[-4:]
        self.fingerprint = fingerprint(plaintext)
        self.status = self.Status.UNCHECKED
        self.last_error = ""
        self.balance = ""
        self.balance_amount = self.balance_spent = self.balance_checked = None
        self.balance_unit = ""
        self.checked = None
        self.paused_until = None
        self.failures = 0
        self.sync_error = ""
        self.next_sync = None

    def client(self):
        """The provider adapter for this key. Raises crypto.SecretUnavailable."""
        return PROVIDERS[self.provider](self.secret.reveal())

    def check_with_provider(self) -> None:
        """Ask the provider whether the key works and record the answer (saves). A key found
        working or out of credits is synced at once: the owner's check is its retry."""
        now = timezone.now()
        fields = ["status", "last_error", "balance", "checked"]
        try:
            self.balance = self.client().check_key()
        except crypto.SecretUnavailable:
            self.status, self.last_error = (
                self.Status.REENTER,
                ("This key can no longer be decrypted (its encryption key is gone). Enter the key again."),
            )
        except OutOfCredits as e:
            self.status, self.last_error = self.Status.OUT_OF_CREDITS, e.message[:500]
            self.paused_until, self.next_sync = now + self.OUT_OF_CREDITS_PAUSE, None
            fields += ["paused_until", "next_sync"]
        except ProviderError as e:
            # Rejected when the provider refused the key; otherwise we could not ask.
            self.status = self.Status.REJECTED if e.permanent else self.Status.UNCHECKED
            self.last_error = e.message[:500]
        else:
            if self.status == self.Status.OUT_OF_CREDITS:
                self.paused_until, self.next_sync, self.failures, self.sync_error = None, None, 0, ""
                fields += ["paused_until", "next_sync", "failures", "sync_error"]
            self.status, self.last_error = self.Status.OK, ""
        self.checked = now
        self.save(update_fields=fields)
