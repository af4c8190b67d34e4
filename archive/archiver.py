"""Copying finished jobs' media into Genboard's storage, before providers delete it.

1. plan(): when the sync stores a finished job (history.sync.store, in its transaction), one
   ArchivedFile row per output (and Munsit input) with a URL is added, due at once; the
   `archive` command plans existing jobs the same way. Keys whose owner turned archiving off
   (Credential.archive) are skipped.
2. dispatch() (the django-q2 schedule, every minute): per media host, as many "slots" as
   ARCHIVE_HOST_CONCURRENCY allows minus those busy, each a task that claims the host's due
   files one after another (a conditional UPDATE: one worker per file) until none is left or
   its time is up. A lost worker's files come back when their lease expires.
3. archive_one(): fetch (archive.fetch: public addresses only, pinned, no credentials), check
   the size cap, the owner's quota and the content type against the output's kind, stream
   into storage with the sha256, and record the outcome; failures are retried with backoff,
   permanent ones (not found, wrong type, too big, blocked address) are final.
"""

import functools
import logging
import mimetypes
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone
from django_q.tasks import async_task

from history import rows
from history.models import Job

from . import fetch
from .models import ArchivedFile
from .storage import StreamedBody, TooBig, archive_storage

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=20)
MAX_ATTEMPTS = 8
FULL_RETRY = timedelta(hours=1)
# A slot task stops claiming new files after this long, so workers take turns.
SLOT_BUDGET = 300.0
# Magic numbers of the formats each kind comes in, for hosts that send no useful type.
SIGNATURES: dict[str, list[tuple[int, bytes, str]]] = {
    "audio": [
        (0, b"ID3", "audio/mpeg"),
        (0, b"fLaC", "audio/flac"),
        (0, b"OggS", "audio/ogg"),
        (8, b"WAVE", "audio/wav"),
        (4, b"ftyp", "audio/mp4"),
    ],
    "image": [
        (0, b"\x89PNG\r\n\x1a\n", "image/png"),
        (0, b"\xff\xd8\xff", "image/jpeg"),
        (0, b"GIF8", "image/gif"),
        (8, b"WEBP", "image/webp"),
    ],
    "video": [(4, b"ftyp", "video/mp4"), (0, b"\x1aE\xdf\xa3", "video/webm"), (0, b"OggS", "video/ogg")],
}
# The content types each kind may come as. A "video" output may be sound only: Munsit names
# an output's kind by the uploaded file's name, and denoising a video can give back its audio.
FAMILIES = {"audio": ("audio/",), "image": ("image/",), "video": ("video/", "audio/")}
# Never kept whatever the kind says: an SVG can carry script.
REFUSED_TYPES = {"image/svg+xml"}
EXTENSIONS = {"audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mp4": ".m4a"}


# --- settings ---------------------------------------------------------------------------


def max_file_size() -> int:
    return int(getattr(settings, "ARCHIVE_MAX_FILE_SIZE", 500 * 1024 * 1024))


def user_quota() -> int:
    """Bytes one person may keep archived; 0 means no limit."""
    return int(getattr(settings, "ARCHIVE_USER_QUOTA", 0))


def host_concurrency() -> int:
    return max(1, int(getattr(settings, "ARCHIVE_HOST_CONCURRENCY", 4)))


# --- planning ---------------------------------------------------------------------------


def _items(outputs: list | None, inputs: list | None) -> list[tuple[str, int, dict]]:
    items = [(ArchivedFile.Role.OUTPUT, n, o) for n, o in enumerate(outputs or [])]
    items += [(ArchivedFile.Role.INPUT, n, o) for n, o in enumerate(inputs or [])]
    return [(role, n, o) for role, n, o in items if isinstance(o, dict) and source_url(o)]


def source_url(item: dict) -> str:
    url = item.get("url") or item.get("stream_url") or ""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""


def plan(jobs) -> int:
    """Add the missing archive rows of these jobs (finished ones of keys that archive);
    returns how many. Idempotent: known items are left alone (their URL refreshed while
    nothing is archived yet: providers re-sign URLs)."""
    jobs = [j for j in jobs if j.status == Job.Status.SUCCEEDED]
    if not jobs:
        return 0
    known = {
        (f.job_id, f.role, f.position): f
        for f in ArchivedFile.objects.filter(job__in=[j.pk for j in jobs]).only(
            "pk", "job_id", "role", "position", "url", "state"
        )
    }
    now = timezone.now()
    new, moved = [], []
    for job in jobs:
        for role, position, item in _items(job.outputs, job.inputs):
            url = source_url(item)
            row = known.get((job.pk, role, position))
            if row is None:
                new.append(_new_row(job.pk, role, position, item, now))
            elif row.url != url and row.state in (ArchivedFile.State.PENDING, ArchivedFile.State.GONE):
                row.url, row.host, row.state, row.next_try = url[:2000], _host(url), "pending", now
                moved.append(row)
    _insert(new)
    rows.update_by_pk(ArchivedFile, moved, ["url", "host", "state", "next_try"])
    return len(new)


def _new_row(job_id: int, role: str, position: int, item: dict, now: datetime) -> dict:
    url = source_url(item)
    return {
        **NEW_ROW,
        "code": uuid.uuid4(),
        "job_id": job_id,
        "role": role,
        "position": position,
        "kind": str(item.get("kind") or "audio")[:10],
        "url": url[:2000],
        "host": _host(url),
        "next_try": now,
        "created": now,
    }


def _insert(new: list[dict]) -> None:
    # The sync plans a page of jobs at a time: one prepared INSERT, as history.rows does for
    # jobs (bulk_create compiled every value and cost more than the page's own import).
    rows.insert_ignoring_conflicts(ArchivedFile, new, conflict=["job_id", "role", "position"])


# Column values of a planned row besides its item, url and times.
NEW_ROW = {
    "state": ArchivedFile.State.PENDING,
    "size": None,
    "sha256": "",
    "content_type": "",
    "path": "",
    "error": "",
    "attempts": 0,
    "lease_until": None,
    "archived": None,
}


@functools.lru_cache(maxsize=256)
def _origin_key(origin: str) -> str:
    return fetch.host_key(origin)


def _host(url: str) -> str:
    """host:port of a URL; memoised by origin (a page of jobs shares one or two)."""
    scheme, _, rest = url.partition("://")
    return _origin_key(f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0]}")


def plan_finished(credential, created: list[dict], changed: list[Job]) -> int:
    """The sync's hook (history.sync.store, in its transaction), if the key archives: plan
    the finished ones among the rows it just inserted (`created`, column values) and the jobs
    whose status or media it just changed (`changed`).

    Planned from the values just written, not read back (that read cost a fifth of an
    import): only the pks of new rows that are finished with media are read, by the `code`
    this import chose. A row that ON CONFLICT skipped (a concurrent import inserted the same
    job) keeps the other import's code, so it is not planned from this page: the import
    that inserted it planned it if it was finished, and the next sync plans it when it
    updates it. Rows this import inserted have no archive rows yet: none are looked up."""
    if not credential.archive:
        return 0
    finished = {}
    for row in created:
        if row["status"] == Job.Status.SUCCEEDED and (items := _items(row["outputs"], row["inputs"])):
            finished[row["code"]] = items
    new = []
    if finished:
        now = timezone.now()
        for code, pk in Job.objects.filter(code__in=list(finished)).values_list("code", "pk"):
            new += [_new_row(pk, role, position, item, now) for role, position, item in finished[code]]
        _insert(new)
    return len(new) + plan(changed)


def plan_credential(credential_id: int, chunk: int = 500) -> int:
    """Plan every finished job of one key (backfill; archiving turned back on)."""
    jobs = Job.objects.filter(credential_id=credential_id, credential__archive=True, status=Job.Status.SUCCEEDED)
    jobs = jobs.only("pk", "status", "outputs", "inputs").order_by("pk")
    planned, last = 0, 0
    while batch := list(jobs.filter(pk__gt=last)[:chunk]):
        planned += plan(batch)
        last = batch[-1].pk
    return planned


# --- dispatching ------------------------------------------------------------------------


def due(now: datetime | None = None, credentials: list[int] | None = None):
    """Files to work on now: due for a try, or claimed by a worker whose lease ran out, of
    keys that still archive (of these keys only, when given)."""
    now = now or timezone.now()
    waiting = Q(state__in=ArchivedFile.RETRYABLE, next_try__lte=now)
    lost = Q(state=ArchivedFile.State.FETCHING, lease_until__lt=now)
    files = ArchivedFile.objects.filter(waiting | lost, job__credential__archive=True)
    return files.filter(job__credential__in=credentials) if credentials is not None else files


def busy(host: str, now: datetime) -> int:
    return ArchivedFile.objects.filter(state=ArchivedFile.State.FETCHING, host=host, lease_until__gte=now).count()


def claim_next(host: str, credentials: list[int] | None = None) -> ArchivedFile | None:
    """Take the next due file of a host (one worker per file); None when there is none."""
    for _ in range(5):
        now = timezone.now()
        row = (
            due(now, credentials)
            .filter(host=host)
            .order_by("next_try", "pk")
            .only("pk", "state", "lease_until")
            .first()
        )
        if row is None:
            return None
        taken = ArchivedFile.objects.filter(pk=row.pk, state=row.state, lease_until=row.lease_until).update(
            state=ArchivedFile.State.FETCHING, lease_until=now + LEASE
        )
        if taken:
            return ArchivedFile.objects.select_related("job__credential").get(pk=row.pk)
    return None


def dispatch() -> int:
    """The schedule's entry point: start as many slots per host as its limit allows. Each
    slot's first file is claimed here, so a slot still waiting in the queue counts as busy."""
    now = timezone.now()
    hosts = due(now).order_by().values_list("host", flat=True).distinct()
    started = 0
    for host in list(hosts):
        for _ in range(host_concurrency() - busy(host, now)):
            first = claim_next(host)
            if first is None:
                break
            async_task("archive.archiver.run_slot", host, first=first.pk, group="archive")
            started += 1
    return started


def run_slot(
    host: str,
    budget: float = SLOT_BUDGET,
    *,
    first: int | None = None,
    credentials: list[int] | None = None,
    on_file: Callable[[ArchivedFile, str], None] | None = None,
) -> int:
    """Archive a host's due files one after another, starting with `first` (claimed by the
    dispatcher); returns how many were tried."""
    stop = time.monotonic() + budget
    tried = 0
    row = ArchivedFile.objects.select_related("job__credential").filter(pk=first, state="fetching").first()
    while row is not None or (time.monotonic() < stop and (row := claim_next(host, credentials)) is not None):
        outcome = archive_one(row)
        tried += 1
        if on_file:
            on_file(row, outcome)
        row = None
    return tried


# --- one file ---------------------------------------------------------------------------


def used_bytes(owner_id: int) -> int:
    done = ArchivedFile.objects.filter(job__credential__owner_id=owner_id, state=ArchivedFile.State.DONE)
    return done.aggregate(total=Sum("size"))["total"] or 0


def accepted_type(kind: str, declared: str, head: bytes) -> str:
    """The content type to keep the file under, or "" when it is not what the kind says.
    A declared type of the right family wins; a vague one (none, octet-stream) is judged by
    the file's first bytes."""
    family = kind if kind in SIGNATURES else "audio"
    if declared in REFUSED_TYPES:
        return ""
    if declared.startswith(FAMILIES[family]):
        return declared
    if declared in ("", "application/octet-stream", "binary/octet-stream"):
        for offset, magic, content_type in SIGNATURES[family]:
            if head[offset : offset + len(magic)] == magic:
                return content_type
    return ""


def extension_for(content_type: str, url: str) -> str:
    ext = EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ""
    if not ext:
        suffix = urlsplit(url).path.rsplit(".", 1)[-1].lower() if "." in urlsplit(url).path else ""
        ext = f".{suffix}" if suffix.isalnum() and len(suffix) <= 5 else ".bin"
    return ext


def archive_one(row: ArchivedFile) -> str:
    """Fetch one claimed file into storage; returns the state it ends in."""
    owner_id = row.job.credential.owner_id
    quota = user_quota()
    try:
        download = fetch.open_url(row.url, accept=f"{row.kind}/*")
    except fetch.FetchError as e:
        return _failed(row, e.message, permanent=e.permanent, gone=e.gone)
    try:
        limit = max_file_size()
        if download.length is not None and download.length > limit:
            return _failed(row, f"Too big to archive: {_mb(download.length)} (the limit is {_mb(limit)}).", True)
        used = used_bytes(owner_id) if quota else 0
        if quota and used + (download.length or 0) > quota:
            return _full(row, used, quota)
        chunks = download.chunks()
        head = next(chunks, b"")
        content_type = accepted_type(row.kind, download.content_type, head)
        if not content_type:
            shown = download.content_type or "no type"
            return _failed(row, f"Not {row.kind}: the host sent {shown}.", permanent=True)
        if quota:
            limit = min(limit, quota - used)
        name = f"archive/{row.code.hex[:2]}/{row.code.hex}{extension_for(content_type, download.url)}"
        body = StreamedBody(_prepend(head, chunks), name, limit)
        storage = archive_storage()
        try:
            stored = storage.save(name, body)
        except TooBig:
            _remove_quietly(storage, name)
            if quota and body.size_read > quota - used and body.size_read <= max_file_size():
                return _full(row, used, quota)
            return _failed(row, f"Too big to archive: more than {_mb(max_file_size())}.", permanent=True)
        except fetch.FetchError as e:
            _remove_quietly(storage, name)
            return _failed(row, e.message, permanent=e.permanent)
    finally:
        download.close()
    ArchivedFile.objects.filter(pk=row.pk).update(
        state=ArchivedFile.State.DONE,
        path=stored,
        size=body.size_read,
        sha256=body.digest.hexdigest(),
        content_type=content_type,
        error="",
        attempts=row.attempts + 1,
        next_try=None,
        lease_until=None,
        archived=timezone.now(),
    )
    return ArchivedFile.State.DONE


def _prepend(head: bytes, chunks):
    if head:
        yield head
    yield from chunks


def _remove_quietly(storage, name: str) -> None:
    try:
        if storage.exists(name):
            storage.delete(name)
    except OSError:
        logger.warning("Could not remove the partial archive file %s", name)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _failed(row: ArchivedFile, message: str, permanent: bool = False, gone: bool = False) -> str:
    attempts = row.attempts + 1
    if gone:
        state, next_try = ArchivedFile.State.GONE, None
    elif permanent or attempts >= MAX_ATTEMPTS:
        state, next_try = ArchivedFile.State.FAILED, None
    else:
        # 1 min, 2, 4 … up to 6 h, with jitter so a host's files do not come back in step.
        delay = min(60 * 2 ** (attempts - 1), 6 * 3600) * random.uniform(0.75, 1.25)
        state, next_try = ArchivedFile.State.PENDING, timezone.now() + timedelta(seconds=delay)
    ArchivedFile.objects.filter(pk=row.pk).update(
        state=state, error=message[:500], attempts=attempts, next_try=next_try, lease_until=None
    )
    return state


def _full(row: ArchivedFile, used: int, quota: int) -> str:
    message = f"Archive full: {_mb(used)} of {_mb(quota)} used."
    ArchivedFile.objects.filter(pk=row.pk).update(
        state=ArchivedFile.State.FULL, error=message, next_try=timezone.now() + FULL_RETRY, lease_until=None
    )
    return ArchivedFile.State.FULL
