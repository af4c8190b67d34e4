"""Processing stored webhook events into jobs (django-q2 tasks; ids only as arguments).

An event is a cue, not a source of truth: the worker asks the provider for the job through
the key's adapter (Apikley's record-info, AudioPod's job status) and stores that answer
with the sync's own `store()`, so a webhook moves a job exactly as a poll would: at once,
and only forward. What the body says beyond what its signature covers is never used.
"""

from django.db.models import Q
from django.utils import timezone

from history import removal
from history.models import Job
from history.sync import FIRST_POLL, store
from providers import crypto
from providers.http import ProviderError

from .models import Event, Hook
from .receiver import queue

# Events that say a job is over (kie.ai's last stages, AudioPod's job events).
FINAL_KINDS = {"complete", "error", "job.completed", "job.failed", "job.cancelled"}
# Events about no job in particular (AudioPod's test event).
NO_JOB_NOTE = "Nothing to update: the event names no music job."
SWEEP_LIMIT = 500


def claim(event_pk: int) -> Event | None:
    """Take a queued event (a conditional UPDATE: one worker per event, however often queued)."""
    now = timezone.now()
    claimable = Q(state=Event.State.QUEUED) | Q(state=Event.State.WORKING, claimed__lt=now - Event.STUCK_AFTER)
    if Event.objects.filter(claimable, pk=event_pk).update(state=Event.State.WORKING, claimed=now) != 1:
        return None
    return Event.objects.select_related("hook__credential").get(pk=event_pk)


def finish(event: Event, state: str, note: str = "", job: Job | None = None) -> str:
    Event.objects.filter(pk=event.pk).update(
        state=state, processed=timezone.now(), note=note[:300], job=job.pk if job else None
    )
    return f"{state}: {note}" if note else state


def process_event(event_pk: int) -> str:
    """Bring the event's job up to date from the provider; returns what happened (for the
    task log, no secrets)."""
    event = claim(event_pk)
    if event is None:
        return "not queued (already processed or being processed)"
    try:
        return process(event)
    except Exception:
        # A bug must not bring the event back every sweep: it is marked failed, then raised.
        finish(event, Event.State.FAILED, "Internal error while processing; see the worker's log.")
        raise


def process(event: Event) -> str:
    hook: Hook = event.hook
    credential = hook.credential
    Hook.objects.filter(pk=hook.pk).update(last_event=timezone.now())
    if not event.external_id:
        return finish(event, Event.State.IGNORED, NO_JOB_NOTE)
    if removal.buried(credential, [event.external_id]):
        return finish(event, Event.State.IGNORED, "Removed from Genboard by its owner: it stays removed.")
    job = Job.objects.filter(credential=credential, external_id=event.external_id).first()
    if not credential.usable:
        return finish(event, Event.State.IGNORED, "The key is not in use (rejected or to be re-entered).", job)
    try:
        record = credential.client().job(event.external_id)
    except crypto.SecretUnavailable:
        return finish(event, Event.State.FAILED, "The key can no longer be decrypted.", job)
    except ProviderError as e:
        return provider_failed(event, job, e)
    # This key's webhooks arrive (we are processing one): its polling is the slow fallback.
    store(credential, [record], relaxed=True)
    job = Job.objects.filter(credential=credential, external_id=event.external_id).first()
    if job is not None and event.kind in FINAL_KINDS and job.status in Job.UNFINISHED and job.next_poll:
        # The call says it is over, the provider's answer not yet (a replica lagging): look
        # again soon rather than after the slow fallback's gap.
        Job.objects.filter(pk=job.pk).update(next_poll=min(job.next_poll, timezone.now() + FIRST_POLL))
    return finish(event, Event.State.DONE, f"{record.provider_status or record.status}", job)


def provider_failed(event: Event, job: Job | None, error: ProviderError) -> str:
    """The provider could not say (yet). Polling stays the fallback: the job is looked at
    again soon; a signed callback for a task the provider does not show yet (Apikley answers
    `data: null` for a while after creation) enters the history as pending, like an import."""
    now = timezone.now()
    if job is not None:
        Job.objects.filter(pk=job.pk, next_poll__isnull=False).update(next_poll=now + FIRST_POLL)
        return finish(event, Event.State.FAILED, f"Will poll: {error.message}", job)
    not_yet = error.status in (404, 422) and not error.permanent
    if event.signed and not_yet:
        job = pending_job(event, now)
        return finish(event, Event.State.DONE, "Not at the provider yet: stored as pending, polled.", job)
    return finish(event, Event.State.FAILED, error.message)


def pending_job(event: Event, now) -> Job:
    credential = event.hook.credential
    job, _ = Job.objects.get_or_create(
        credential=credential,
        external_id=event.external_id,
        defaults={
            "provider": credential.provider,
            "kind": Job.Kind.MUSIC,
            "status": Job.Status.PENDING,
            "created": now,
            "imported": now,
            "seen": now,
            "next_poll": now + FIRST_POLL,
            "polling_since": now,
        },
    )
    return job


def sweep() -> int:
    """Run every minute by the schedule (hooks/migrations): queue again events whose task was
    lost (queued a minute ago, or claimed by a worker that died), and prune old events."""
    now = timezone.now()
    lost = Event.objects.filter(
        Q(state=Event.State.QUEUED, received__lt=now - Event.REQUEUE_AFTER)
        | Q(state=Event.State.WORKING, claimed__lt=now - Event.STUCK_AFTER)
    ).values_list("pk", flat=True)[:SWEEP_LIMIT]
    pks = list(lost)
    for pk in pks:
        queue(pk)
    Event.objects.filter(received__lt=now - Event.KEEP).delete()
    return len(pks)
