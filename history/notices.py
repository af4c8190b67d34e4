"""The one line above the history that sums up the person's keys and syncs: keys that need
attention (rejected, to be entered again, out of credits), syncs under way, and what the
latest syncs brought ("2 keys need attention · last sync 3 min ago: 120 new"). It opens to the
details and can be dismissed.

A dismissal stores a digest of what needs action (history preferences: dismissed_notices):
the line stays hidden while the digest is the same and shows again when a key gets a new
problem or a sync fails anew. What is only news (a sync that brought jobs) does not bring it
back: a schedule syncs every few minutes, and the new jobs show in the list anyway. A sync
under way always shows, with its live progress.

Three queries per full page, whatever the number of keys: the syncs under way, each key's
latest finished sync, and the person's preferences (read by the caller).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from providers.models import Credential

from .models import SyncRun
from .tasks import ACTIVE_RUN_WINDOW

FINISHED = [SyncRun.State.DONE, SyncRun.State.FAILED]
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


def active_runs(keys: list[Credential]) -> list[SyncRun]:
    """The syncs of these keys that are queued or running (a run older than the window lost
    its task and no longer counts)."""
    recent = timezone.now() - ACTIVE_RUN_WINDOW
    runs = SyncRun.objects.filter(credential__in=keys, state__in=[SyncRun.State.QUEUED, SyncRun.State.RUNNING])
    return _with_keys(runs.filter(created__gt=recent).order_by("created"), keys)


def latest_runs(keys: list[Credential]) -> list[SyncRun]:
    """Each key's latest finished sync, newest first, in one query (each key keeps only its
    last few runs, SyncRun.KEEP_PER_CREDENTIAL, read down syncrun_latest_per_key)."""
    if not keys:
        return []
    newest = SyncRun.objects.filter(credential_id=OuterRef("credential_id"), state__in=FINISHED)
    newest = newest.order_by("-created").values("pk")[:1]
    runs = SyncRun.objects.filter(credential__in=keys, state__in=FINISHED, pk=Subquery(newest))
    return _with_keys(runs.order_by("-created"), keys)


def _with_keys(runs, keys: list[Credential]) -> list[SyncRun]:
    """The runs, each given its key from `keys` (already read) rather than joined again."""
    by_pk = {key.pk: key for key in keys}
    found = list(runs)
    for run in found:
        run.credential = by_pk[run.credential_id]
    return found


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
    latest = latest_runs(own_keys)
    failed = [run for run in latest if run.state == SyncRun.State.FAILED]
    current = digest(troubled, failed)
    return Notices(troubled, active_runs(own_keys), latest, current, dismissed=dismissed == current)
