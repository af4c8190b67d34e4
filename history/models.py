import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.urls import reverse
from django.utils import timezone

from providers.models import Credential
from providers.registry import CHOICES


def sort_indexes(field: str, short: str = "") -> list[models.Index]:
    """The two indexes a sort by `field` walks: (key, value, id) where the value is known,
    (key, id) where it is not (partial, so that each is a plain range walk on SQLite and
    PostgreSQL alike)."""
    short = short or field
    return [
        models.Index(
            fields=["credential", field, "id"],
            name=f"job_sort_{short}",
            condition=models.Q(**{f"{field}__isnull": False}),
        ),
        models.Index(
            fields=["credential", "id"], name=f"job_sort_{short}_none", condition=models.Q(**{f"{field}__isnull": True})
        ),
    ]


class JobQuerySet(models.QuerySet):
    def visible_to(self, user) -> "JobQuerySet":
        """THE access rule for jobs: those of your own keys, plus those of keys shared with a
        team you belong to. Every list, page, export, count and chart goes through it."""
        return self.filter(credential__in=Credential.objects.history_visible_to(user).values("pk"))


class Job(models.Model):
    """One generation job at one provider, as seen through one key."""

    class Kind(models.TextChoices):
        AUDIO = "audio", "Audio"
        IMAGE = "image", "Image"
        MUSIC = "music", "Music"
        DENOISE = "denoise", "Denoise"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        # Final, like succeeded and failed (the provider usually gives the credits back).
        CANCELED = "canceled", "Canceled"
        # A status string the provider documents nowhere: kept raw, shown, polled like running.
        UNKNOWN = "unknown", "Unknown"

    UNFINISHED = (Status.PENDING, Status.RUNNING, Status.UNKNOWN)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credential = models.ForeignKey(Credential, models.CASCADE, related_name="jobs")
    # Copied from the credential so the history can filter on it without a join.
    provider = models.CharField(max_length=20, choices=CHOICES)
    kind = models.CharField(max_length=10, choices=Kind)
    external_id = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True)
    prompt = models.TextField(blank=True)
    model = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status)
    provider_status = models.CharField(max_length=60, blank=True)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    created = models.DateTimeField()
    completed = models.DateTimeField(null=True, blank=True)
    credits_used = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    credits_refunded = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # The length in seconds of the first output when it is audio or video (what rows show as
    # "Length"), copied out of `outputs` so the history can sort by it (history/sorting.py).
    duration = models.FloatField(null=True, blank=True)
    # What the job produced, in order: [{kind, url, stream_url, title, duration, position}].
    # A JSON list rather than a table: outputs are always read and replaced with their job,
    # never queried on their own, and one row per job keeps bulk import a single upsert.
    outputs = models.JSONField(default=list, blank=True)
    # What the job was given, e.g. Munsit's original upload: [{kind, url, title, duration}].
    inputs = models.JSONField(default=list, blank=True)
    # What else the provider's record says that a person looks for, by name
    # (providers.records.DETAILS: engine, operation, source, progress, timed lyrics…).
    details = models.JSONField(default=dict, blank=True)
    # What this job continues: Suno's parentMusicId (a track id), or the external id of the
    # job it was made from (AudioPod score-first's source_job_id).
    parent_ref = models.CharField(max_length=200, blank=True)
    # Searched besides title, prompt and external id: the outputs' style tags, lyrics and ids.
    search_text = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True)

    # Bookkeeping: when we first stored it, last heard of it, and when to ask again.
    imported = models.DateTimeField(default=timezone.now)
    seen = models.DateTimeField(default=timezone.now)
    next_poll = models.DateTimeField(null=True, blank=True)
    poll_attempts = models.PositiveIntegerField(default=0)
    # When the current unfinished spell began (import, or a retry): polling gives up a day later.
    polling_since = models.DateTimeField(null=True, blank=True)
    # Unfinished after a day of polling: we stopped asking; the status stays what we last knew.
    stale = models.BooleanField(default=False)

    objects = JobQuerySet.as_manager()

    class Meta:
        constraints = [
            # Import is idempotent: one row per job and key, whatever runs twice or at once.
            models.UniqueConstraint(fields=["credential", "external_id"], name="job_one_row_per_key_and_id"),
        ]
        indexes = [
            # The history list: newest first, keyset-paginated on (created, id), per key.
            models.Index(fields=["credential", "-created", "-id"], name="job_history_by_key"),
            # The same, one kind at a time (the kind filter; locating a job's page in sync).
            models.Index(fields=["credential", "kind", "-created", "-id"], name="job_history_by_key_kind"),
            # The same, one status at a time (the status filter, and the counts per status).
            models.Index(fields=["credential", "status", "-created", "-id"], name="job_history_by_key_status"),
            # The same, one model at a time (the model filter; the list of a person's models).
            models.Index(fields=["credential", "model", "-created", "-id"], name="job_history_by_key_model"),
            # The same across many keys, when one person sees most of the table.
            models.Index(fields=["-created", "-id"], name="job_history"),
            # The other sorts of the list (history/sorting.py), keyset-paginated per key in either
            # direction: the jobs that have the value by (value, id), those without by id (they
            # come last in both directions, so each needs its own walk).
            *sort_indexes("completed"),
            *sort_indexes("duration"),
            *sort_indexes("credits_used", "credits"),
            # The sync engine: a key's unfinished jobs that are due for another look.
            models.Index(
                fields=["credential", "next_poll"], name="job_due_poll", condition=models.Q(next_poll__isnull=False)
            ),
            # A job's page: the jobs that continue one of its tracks (lineage).
            models.Index(fields=["parent_ref"], name="job_lineage", condition=~models.Q(parent_ref="")),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id

    def get_absolute_url(self) -> str:
        return reverse("history:detail", args=[self.code])

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED


class Tombstone(models.Model):
    """A job its owner removed from Genboard (history.removal): the next sync of a list
    provider must not bring it back. Only the key and the provider's id are kept."""

    credential = models.ForeignKey(Credential, models.CASCADE, related_name="tombstones")
    external_id = models.CharField(max_length=200)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One per job and key; also the index history.removal.buried() reads a page's ids by.
            models.UniqueConstraint(fields=["credential", "external_id"], name="tombstone_one_per_key_and_id"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} (removed)"


class SyncRun(models.Model):
    """One sync of one key: what the progress bar shows and the admin lists."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Sync now"
        COMMAND = "command", "manage.py sync"
        IMPORT = "import", "Task import"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        # Another worker held the key's lease: that one does the work.
        SKIPPED = "skipped", "Skipped"
        # Its worker died mid-run (history/recovery.py); the next run resumes its backfill.
        INTERRUPTED = "interrupted", "Interrupted"

    KEEP_PER_CREDENTIAL = 20

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credential = models.ForeignKey(Credential, models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=10, choices=Trigger)
    state = models.CharField(max_length=12, choices=State, default=State.QUEUED)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unfinished = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            # The latest runs of a key (progress bar, keys page, pruning).
            models.Index(fields=["credential", "-created"], name="syncrun_latest_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.credential} {self.get_trigger_display()} {self.created:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)


def export_storage():
    """Where large exports are written: the storage archived media lives in (a bucket when
    one is set), so a worker on one machine and a web server on another share it."""
    return storages["archive"]


class Export(models.Model):
    """An export too large to stream from a web process: a worker writes it to storage and
    its owner downloads it when it is ready (history/export_jobs.py)."""

    class Format(models.TextChoices):
        JSON = "json", "JSON"
        CSV = "csv", "CSV"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    KEEP_PER_OWNER = 5

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="exports")
    format = models.CharField(max_length=4, choices=Format)
    # The history's filters as a query string, and the viewer's time zone for their days.
    query = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    # The site's origin as the request had it: archived files are linked by absolute URLs.
    origin = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=State, default=State.QUEUED)
    total = models.PositiveIntegerField(null=True, blank=True)
    written = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", storage=export_storage, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    # Moves with the progress: an unfinished export not touched for a while lost its worker.
    touched = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            # An owner's latest exports (the one-at-a-time rule, pruning, the export page).
            models.Index(fields=["owner", "-created"], name="export_latest_per_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.format} {self.created:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("history:export", args=[self.code])

    @property
    def active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.written / self.total)) if self.total else 0
