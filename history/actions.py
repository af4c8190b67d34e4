"""Actions on a job through its provider's API — AudioPod's rename, delete and retry — and
"Refresh now" for any unfinished job.

The views decide who may (teams.access); these functions talk to the provider, keep the
stored job in step with its answer (history.sync.store, forward-only status), record every
action in the audit trail, and return the message to show. They raise ActionRefused when
Genboard itself says no (nothing was sent), providers.http.ProviderError when the provider did.
"""

import time

from django.core.cache import cache
from django.utils import timezone

from providers import crypto
from providers.http import KeyRejected, ProviderError
from providers.models import Credential
from teams import audit

from . import removal
from .models import Job, SyncRun
from .sync import record_failure, restart, store
from .tasks import enqueue_sync

# AudioPod: "POST …/{id}/retry (FAILED only, 10/min)" per key. Counted in the shared cache,
# per key and clock minute, so every web process sees the same count.
RETRY_LIMIT = 10
RETRY_WINDOW = 60
# Which providers offer which actions at their API (only AudioPod has any today).
PROVIDER_ACTIONS = {"audiopod": frozenset({"rename", "delete", "retry"})}


class ActionRefused(Exception):
    """Genboard declined before calling the provider; the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def offers(job: Job, action: str) -> bool:
    # AudioPod's score-first jobs (ids "v3-…") have no rename, delete or retry in its API.
    return action in PROVIDER_ACTIONS.get(job.provider, ()) and job.external_id.isdigit()


def _client(job: Job):
    if not job.credential.usable:
        raise ActionRefused(_unusable(job.credential))
    try:
        return job.credential.client()
    except crypto.SecretUnavailable as e:
        raise ActionRefused("This key can no longer be decrypted: enter it again on its page.") from e


def _unusable(credential: Credential) -> str:
    if credential.status == Credential.Status.REENTER:
        return f"The key “{credential.label}” must be entered again before Genboard can use it."
    return f"{credential.get_provider_display()} rejected the key “{credential.label}”: its owner must fix it first."


def _provider_failed(actor, verb: str, job: Job, error: ProviderError) -> None:
    audit.record_for_job(actor, verb, job, detail=f"refused by {job.get_provider_display()}: {error.message}"[:200])
    if isinstance(error, KeyRejected):
        # The provider refused the key itself: stop using it, as a sync would (its owner sees why).
        record_failure(job.credential, error)


def rename(actor, job: Job, name: str) -> str:
    client = _client(job)
    try:
        record = client.rename(job.external_id, name)
    except ProviderError as e:
        _provider_failed(actor, audit.Verb.JOB_RENAME, job, e)
        raise
    old = job.title
    if record is not None:
        store(job.credential, [record])
    else:  # AudioPod said yes without sending the job back: show the new name meanwhile
        Job.objects.filter(pk=job.pk).update(title=name[:300])
    audit.record_for_job(actor, audit.Verb.JOB_RENAME, job, detail=f"from “{old}” to “{name}”")
    return f"Renamed at {job.get_provider_display()} to “{name}”."


def delete(actor, job: Job) -> str:
    """Delete at the provider, then here. A job the provider no longer has is removed too."""
    client = _client(job)
    provider = job.get_provider_display()
    name = job.title or job.external_id
    try:
        answer = client.delete(job.external_id)
    except ProviderError as e:
        if e.status != 404:
            _provider_failed(actor, audit.Verb.JOB_DELETE, job, e)
            raise
        answer = f"{provider} no longer had this job."
        said = f"{provider} no longer had “{name}”"
    else:
        # The provider's own words ("Job deleted successfully") quoted, not run into ours.
        said = f"Deleted “{name}” at {provider} (it answered “{answer.strip().rstrip('.')}”)"
    # Recorded while the job still exists, so the trail can name it and its key's teams.
    audit.record_for_job(actor, audit.Verb.JOB_DELETE, job, detail=answer[:200])
    removal.forget(job)
    return f"{said}; it is removed from Genboard too."


def retry_slot_wait(credential: Credential) -> int:
    """Take one of the key's retries for this minute: 0, or the seconds until one frees up."""
    now = time.time()
    window = int(now // RETRY_WINDOW)
    key = f"history:retries:{credential.pk}:{window}"
    cache.add(key, 0, RETRY_WINDOW * 2)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RETRY_WINDOW * 2)
        used = 1
    if used > RETRY_LIMIT:
        return max(1, int((window + 1) * RETRY_WINDOW - now))
    return 0


def retry(actor, job: Job) -> str:
    if job.status != Job.Status.FAILED:
        raise ActionRefused(f"Only failed jobs can be retried; this one is {job.get_status_display().lower()}.")
    client = _client(job)
    provider = job.get_provider_display()
    if wait := retry_slot_wait(job.credential):
        seconds = f"{wait} second{'s' if wait != 1 else ''}"
        raise ActionRefused(f"{provider} allows {RETRY_LIMIT} retries a minute per key: try again in {seconds}.")
    try:
        record = client.retry(job.external_id)
    except ProviderError as e:
        _provider_failed(actor, audit.Verb.JOB_RETRY, job, e)
        raise
    restart(job, record.status if record else Job.Status.PENDING)
    if record is not None:
        store(job.credential, [record])
    audit.record_for_job(actor, audit.Verb.JOB_RETRY, job)
    return f"{provider} queued the job again: Genboard follows it until it finishes."


def refresh(actor, job: Job) -> SyncRun:
    """Ask the provider about an unfinished job now: due at once, its key's sync queued."""
    if job.finished:
        raise ActionRefused("This job has finished: there is nothing to refresh.")
    if not job.credential.usable:
        raise ActionRefused(_unusable(job.credential))
    # stale=False: a job we had given up on is looked at once more (sync gives up again
    # after that look if it is still unfinished a day after import).
    Job.objects.filter(pk=job.pk).update(next_poll=timezone.now(), stale=False)
    run = enqueue_sync(job.credential)
    audit.record_for_job(actor, audit.Verb.JOB_REFRESH, job)
    return run
