import uuid
from pathlib import PurePosixPath

from django.db import models
from django.urls import reverse
from django.utils import timezone

from history.models import Job


class ArchivedFile(models.Model):
    """Genboard's own copy of one output (or input) of a finished job, kept in storage
    (archive.storage) after the provider deletes its file. Job.outputs stays the provider's
    record; this row says what we hold of item `position` of the job's `role` list."""

    class Role(models.TextChoices):
        OUTPUT = "output", "Output"
        INPUT = "input", "Input"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        FETCHING = "fetching", "Archiving"
        DONE = "done", "Archived"
        FAILED = "failed", "Archive failed"
        # The provider answered 404/410: its copy is gone, and ours never came.
        GONE = "gone", "Expired at the provider"
        # The owner's quota (ARCHIVE_USER_QUOTA) is used up; tried again later.
        FULL = "full", "Archive full"

    # States a dispatch picks up again when next_try comes.
    RETRYABLE = (State.PENDING, State.FULL)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    job = models.ForeignKey(Job, models.CASCADE, related_name="archived")
    role = models.CharField(max_length=6, choices=Role, default=Role.OUTPUT)
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=10)
    # The provider's URL we copy from, and its host:port (per-host concurrency).
    url = models.URLField(max_length=2000)
    host = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    # The file's name in the archive storage (storages["archive"]): local or S3 alike.
    path = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_try = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # One worker per file: the lease of the worker fetching it.
    lease_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    archived = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Planning is idempotent: one row per item of a job, whatever plans it twice.
            models.UniqueConstraint(fields=["job", "role", "position"], name="archivedfile_one_per_item"),
        ]
        indexes = [
            # The dispatcher: files due for a (re)try, oldest first.
            models.Index(
                fields=["next_try"],
                name="archivedfile_due",
                condition=models.Q(next_try__isnull=False),
            ),
            # Files being fetched per host (the per-host concurrency bound).
            models.Index(
                fields=["host", "lease_until"],
                name="archivedfile_fetching",
                condition=models.Q(state="fetching"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.role} {self.position}"

    def get_absolute_url(self) -> str:
        return reverse("archive:file", args=[self.code])

    @property
    def extension(self) -> str:
        return PurePosixPath(self.path).suffix
