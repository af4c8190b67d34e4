"""django-q2 entry points. Tasks get ids, never secrets, as arguments, and hand back plain
summaries: django-q2 pickles a task's return value into its Task row, where a model
instance (a Credential with its ciphertext) would outlive key rotation and reach the admin."""

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.tasks import async_task

from providers.models import Credential

from . import recovery
from .models import Job, SyncRun
from .sync import sync_credential

# A key queued this long ago without its task starting is queued again. The Redis broker
# has no acknowledgements: a task that a killed qcluster had taken off the queue is gone, so
# this is what brings its key back within the schedule's next minute. A copy that was merely
# slow to start finds the key no longer due and does nothing (sync_credential(only_if_due)).
REQUEUE_AFTER = timedelta(seconds=50)
# A queued or running run younger than this is shown, and a second "Sync now" joins it; an
# older one lost its task (a dead worker's running runs are closed as interrupted sooner).
ACTIVE_RUN_WINDOW = timedelta(minutes=15)
DISPATCH_LIMIT = 1000


def _work_to_do(now):
    due_jobs = Job.objects.filter(credential=OuterRef("pk"), next_poll__lte=now)
    return (
        Credential.objects.exclude(status__in=[Credential.Status.REJECTED, Credential.Status.REENTER])
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        .filter(Q(next_sync__isnull=True) | Q(next_sync__lte=now) | Exists(due_jobs))
    )


def due_credentials(now=None):
    """Keys with work to do now: usable, not paused, not leased or queued, and either due
    for a history read or holding unfinished jobs due for a poll."""
    now = now or timezone.now()
    return (
        _work_to_do(now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(enqueued__isnull=True) | Q(enqueued__lt=now - REQUEUE_AFTER))
    )


def still_due(credential_id: int) -> bool:
    """Whether a queued key still has work to do (however it is leased or queued)."""
    return _work_to_do(timezone.now()).filter(pk=credential_id).exists()


class _HeadOfRedisQueue(RedisBroker):
    """django-q2's Redis broker, pushing to the head of the list (workers pop from the head)."""

    def enqueue(self, task):
        return self.connection.lpush(self.list_key, task)


def queue_syncs(ids: list[int], now=None, *, first: bool = False) -> None:
    """One sync task per key; `first` puts them ahead of the queue (Redis only: the ORM
    broker hands tasks out in the order they came)."""
    if not ids:
        return
    Credential.objects.filter(pk__in=ids).update(enqueued=now or timezone.now())
    broker = get_broker()
    if first and isinstance(broker, RedisBroker):
        broker = _HeadOfRedisQueue()
    for pk in ids:
        async_task(
            "history.tasks.sync_key", pk, only_if_due=True, task_name=f"sync-key-{pk}", group="sync", broker=broker
        )


def requeue_lost() -> list[int]:
    """Close a dead worker's runs and queue its keys ahead of the rest: those it was syncing
    (their leases lapsed) and those whose tasks it had taken off the queue (queued more than
    REQUEUE_AFTER ago and not started). They were next in line when it died: queued at the
    back of a long queue, they would wait for all of it again."""
    freed = recovery.recover()
    lost = due_credentials().filter(Q(pk__in=freed) | Q(enqueued__isnull=False))
    ids = list(lost.values_list("pk", flat=True)[:DISPATCH_LIMIT])
    queue_syncs(ids, first=True)
    return ids


def dispatch() -> int:
    """Run every minute by the schedule (history/migrations): one sync task per due key,
    a dead worker's first (requeue_lost)."""
    lost = requeue_lost()
    now = timezone.now()
    ids = list(due_credentials(now).order_by("next_sync").values_list("pk", flat=True)[:DISPATCH_LIMIT])
    queue_syncs(ids, now)
    return len(lost) + len(ids)


def enqueue_sync(credential: Credential, trigger: str = SyncRun.Trigger.MANUAL) -> SyncRun:
    """Queue a sync of one key now ("Sync now", task import); the run shows its progress."""
    recent = timezone.now() - ACTIVE_RUN_WINDOW
    active = credential.sync_runs.filter(state__in=[SyncRun.State.QUEUED, SyncRun.State.RUNNING], created__gt=recent)
    active = active.order_by("-created").first()
    if active is not None:
        return active
    run = SyncRun.objects.create(credential=credential, trigger=trigger)
    Credential.objects.filter(pk=credential.pk).update(enqueued=timezone.now())
    async_task("history.tasks.sync_key", credential.pk, run_id=run.pk, trigger=trigger, group="sync")
    return run


def sync_key(
    credential_id: int,
    run_id: int | None = None,
    trigger: str = SyncRun.Trigger.SCHEDULE,
    only_if_due: bool = False,
) -> dict:
    """The worker's sync task: sync_credential(), reported as counts and a state only; then
    queue at once the keys of any worker that died meanwhile (requeue_lost) rather than
    leaving them for the next minute's dispatch."""
    outcome = sync_credential(credential_id, run_id=run_id, trigger=trigger, only_if_due=only_if_due)
    requeue_lost()
    if outcome is None:
        return {"credential": credential_id, "state": "not due or gone"}
    run = SyncRun.objects.filter(pk=outcome.run.pk).values("pk", "state", "pages", "requests", "new", "updated").first()
    if run is None:  # pruned meanwhile (only the latest runs of a key are kept)
        return {"credential": credential_id, "state": outcome.run.state, "failed": bool(outcome.error)}
    return {"credential": credential_id, "run": run.pop("pk"), **run, "failed": bool(outcome.error)}
