"""Removing a job from Genboard, whatever its provider can do (DESIGN: any job can be removed
by its owner, and a removed job does not come back on the next sync).

The Job row is deleted (whatever hangs off a job is cleaned up by its own post_delete
handlers) and a Tombstone keeps the key and the provider's id: store() in history.sync asks
buried() and skips those ids, so a list provider's next page does not import the job again.
An import of the same task id by its owner is a request to have it back (history.importer).

This is not AudioPod's "Delete at AudioPod" (history.actions.delete), which deletes the job at
the provider and then forgets it here the same way (forget()).
"""

from collections.abc import Iterable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.db.models import DateTimeField, Value
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from providers.models import Credential
from teams import audit

from .models import Job, Tombstone


def buried(credential: Credential, external_ids: Iterable[str]) -> set[str]:
    """Which of these ids of the key's jobs were removed by its owner."""
    return set(
        Tombstone.objects.filter(credential=credential, external_id__in=list(external_ids)).values_list(
            "external_id", flat=True
        )
    )


def forget(job: Job) -> None:
    """Delete the job here and keep it from coming back."""
    with transaction.atomic():
        Tombstone.objects.get_or_create(credential_id=job.credential_id, external_id=job.external_id)
        job.delete()


def remove(actor, job: Job) -> str:
    """The owner's "Remove from Genboard": nothing is sent to the provider."""
    name = job.title or job.external_id
    # Recorded while the job still exists, so the trail can name it and its key's teams.
    audit.record_for_job(actor, audit.Verb.JOB_REMOVE, job)
    forget(job)
    return (
        f"“{name}” is removed from Genboard and will not be imported again. {job.get_provider_display()} still has it."
    )


def bury(pks: list[int]) -> None:
    """Tombstones for these jobs in one INSERT … SELECT from the jobs themselves. The ORM has
    no such statement, and bulk_create (or history.rows' executemany) costs a round trip or a
    compilation per row: 10,000 tombstones took over a second that way."""
    select = (
        Job.objects.filter(pk__in=pks)
        .annotate(buried=Value(timezone.now(), output_field=DateTimeField()))
        .values_list("credential_id", "external_id", "buried")
        .order_by()
    )
    sql, params = select.query.sql_with_params()
    connection = connections[router.db_for_write(Tombstone)]
    quote = connection.ops.quote_name
    table = quote(Tombstone._meta.db_table)
    columns = ", ".join(
        quote(Tombstone._meta.get_field(name).column) for name in ("credential", "external_id", "created")
    )
    keys = ", ".join(quote(Tombstone._meta.get_field(name).column) for name in ("credential", "external_id"))
    # Identifiers from the model's metadata, quoted; the SELECT is Django's, its values parameters.
    # (A SELECT with a WHERE: SQLite then reads ON CONFLICT as the upsert clause.)
    statement = f"INSERT INTO {table} ({columns}) {sql} ON CONFLICT ({keys}) DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def remove_many(actor, jobs) -> int:
    """remove() for many jobs of the actor's own keys at once (history/bulk_actions.py): all
    or nothing, in a number of statements that does not grow with the jobs (10,000 in well
    under 2 s, bench/bulk_bench.py). The trail gets one event per key and team naming how
    many (audit.record_for_jobs), not one per job."""
    mine = jobs.filter(credential__owner=actor).order_by("-created", "-id")
    picked = list(mine.values_list("pk", "credential_id", "external_id", "title"))
    by_key: dict[int, list[str]] = {}
    for _, key, external_id, title in picked:
        by_key.setdefault(key, []).append(title or external_id)
    with transaction.atomic():
        for credential in Credential.objects.filter(pk__in=by_key):
            audit.record_for_jobs(actor, audit.Verb.JOB_REMOVE, credential, by_key[credential.pk])
        bury([pk for pk, *_ in picked])
        # only("pk"): the deletion loads the jobs to cascade to their files; not their records.
        Job.objects.filter(pk__in=[pk for pk, *_ in picked]).only("pk").delete()
    return len(picked)


@require_http_methods(["GET", "POST"])
def job_remove(request, code):
    """GET: the confirmation page. POST: remove. 404 for anyone who cannot see the job, 403
    for teammates who see it: only the key's owner removes its jobs."""
    job = get_object_or_404(Job.objects.visible_to(request.user).select_related("credential"), code=code)
    if job.credential.owner_id != request.user.pk:
        raise PermissionDenied
    if request.method != "POST":
        return render(request, "history/remove.html", {"job": job, "shared": job.credential.shares.exists()})
    messages.success(request, remove(request.user, job))
    return redirect("history:list")
