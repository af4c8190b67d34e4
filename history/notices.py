"""The one line above the history that sums up the person's keys and syncs: keys that need
attention (rejected, to be entered again, out of credits), syncs under way, and what the
latest syncs brought ("2 keys need attention · last sync 3 min ago: 120 new"). It opens to the
details and can be dismissed.

A dismissal stores a digest of what needs action (history preferences: dismissed_notices):
the line stays hidden while the digest is the same and shows again when a key gets a new
problem or a sync fails anew. What is only news (a sync that brought jobs) does not bring it
back: a schedule syncs every few minutes, and the new jobs show in the list anyway. A sync
under way always shows, with its live progress.

Two queries per full page, whatever the number of keys: the syncs under way with each key's
latest finished sync (runs()), and the person's preferences (read by the caller).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from core.sql import placeholders
from providers.models import Credential

from .models import SyncRun
from .tasks import ACTIVE_RUN_WINDOW

FINISHED = [SyncRun.State.DONE, SyncRun.State.FAILED]
UNDER_WAY = [SyncRun.State.QUEUED, SyncRun.State.RUNNING]
# Key states that stop or slow its syncs until its owner does something.
NEEDS_ACTION = [Credential.Status.REJECTED, Credential.Status.REENTER, Credential.Status.OUT_OF_CREDITS]


@dataclass
class Notices:
    keys: list[Credential]  # the person's keys that need attention
    active: list[SyncRun]  # syncs queued or running now
    latest: list[SyncRun]  # each key's latest finished sync, newest first
    digest: str  # of what needs action: a dismissal holds while it stays the same
    dismissed: bool

    @property
    def failed(self) -> list[SyncRun]:
        return [run for run in self.latest if run.state == SyncRun.State.FAILED]

    @property
    def last_sync(self) -> datetime | None:
        return max((run.finished or run.created for run in self.latest), default=None)

    @property
    def new(self) -> int:
        """Jobs the keys' latest syncs brought."""
        return sum(run.new for run in self.latest)

    @property
    def attention(self) -> bool:
        return bool(self.keys or self.failed)

    @property
    def hidden(self) -> bool:
        return self.dismissed and not self.active


# The syncs under way (a run older than the window lost its task and no longer counts), and
# each key's latest finished sync (each key keeps only its last few runs,
# SyncRun.KEEP_PER_CREDENTIAL, read down syncrun_latest_per_key).
RUNS = (
    "SELECT {columns} FROM {run} run WHERE run.credential_id IN ({keys}) AND ("
    " (run.state IN (%s, %s) AND run.created > %s)"
    " OR (run.state IN (%s, %s) AND run.id = ("
    "  SELECT latest.id FROM {run} latest WHERE latest.credential_id = run.credential_id"
    "  AND latest.state IN (%s, %s) ORDER BY latest.created DESC, latest.id DESC LIMIT 1)))"
)


def runs(keys: list[Credential]) -> tuple[list[SyncRun], list[SyncRun]]:
    """The syncs of these keys queued or running now, oldest first, and each key's latest
    finished sync, newest first: one statement, each run given its key from `keys` (already
    read) rather than joined again.

    In SQL rather than the ORM, as annotations.marks reads a page's marks: every full page
    asks this, and building the two querysets (one with a correlated subquery) cost 1.7 ms of
    CPU against 0.25-0.3 ms for the statement (bench/pages_bench.py). Every value is a
    parameter."""
    if not keys:
        return [], []
    quote = connection.ops.quote_name
    columns = ", ".join(f"run.{quote(field.column)}" for field in SyncRun._meta.concrete_fields)
    sql = RUNS.format(columns=columns, run=quote(SyncRun._meta.db_table), keys=placeholders(len(keys)))
    params = [*(key.pk for key in keys), *UNDER_WAY, timezone.now() - ACTIVE_RUN_WINDOW, *FINISHED, *FINISHED]
    by_pk = {key.pk: key for key in keys}
    found = list(SyncRun.objects.raw(sql, params))
    for run in found:
        run.credential = by_pk[run.credential_id]
    active = sorted((run for run in found if run.state in UNDER_WAY), key=lambda run: (run.created, run.pk))
    latest = sorted((run for run in found if run.state in FINISHED), key=lambda run: (run.created, run.pk))
    return active, latest[::-1]


def digest(keys: list[Credential], failed: list[SyncRun]) -> str:
    """What needs action, as a short hex digest: each troubled key with its state and error,
    each key whose latest sync failed with its message (the same failure again is the same
    digest; another one is news)."""
    parts = sorted(f"key:{key.code}:{key.status}:{key.last_error}" for key in keys)
    parts += sorted(f"sync:{run.credential.code}:{run.message}" for run in failed)
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def notices(own_keys: list[Credential], dismissed: str) -> Notices:
    """The summary for a person with these keys (their own, as page_context lists them) who
    dismissed the digest `dismissed` (empty: never)."""
    troubled = [key for key in own_keys if key.status in NEEDS_ACTION]
    active, latest = runs(own_keys)
    failed = [run for run in latest if run.state == SyncRun.State.FAILED]
    current = digest(troubled, failed)
    return Notices(troubled, active, latest, current, dismissed=dismissed == current)
