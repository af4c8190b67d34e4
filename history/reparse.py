"""Stored provider records read again by today's adapters (`manage.py reparse`).

Job.raw keeps every record as the provider sent it, so what a newer adapter reads from it
(Suno tracks' tags and lyrics, lineage, AudioPod's formats, timed lyrics…) can be had for jobs
imported before, without asking the provider again: it may have deleted them by now. Records
go through the sync's own `store`, so statuses still only move forward and removed jobs stay
removed.
"""

from collections.abc import Callable

from providers.models import Credential
from providers.records import BadRecord, JobRecord
from providers.registry import PROVIDERS

from .models import Job
from .sync import Tally, store

BATCH = 500


def reparse_credential(credential: Credential, progress: Callable[[int], None] | None = None) -> Tally:
    """Read every stored record of one key again; returns what `store` changed, with the
    records that could not be read counted as skipped."""
    adapter = PROVIDERS[credential.provider]
    tally, last_pk, seen = Tally(), 0, 0
    while True:
        # Keyset batches rather than one open cursor: the batch is written back as we go.
        batch = list(
            Job.objects.filter(credential=credential, pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "external_id", "kind", "raw")[:BATCH]
        )
        if not batch:
            return tally
        last_pk, seen = batch[-1].pk, seen + len(batch)
        records: list[JobRecord] = []
        for job in batch:
            if not job.raw:  # an imported id the provider never described
                continue
            try:
                record = adapter.parse_stored(job.raw, job.external_id, job.kind)
            except (BadRecord, ValueError, TypeError, KeyError, AttributeError):
                tally.skipped += 1
                continue
            record.external_id = job.external_id  # the row it came from, whatever the record says
            records.append(record)
        tally.add(store(credential, records))
        if progress:
            progress(seen)
