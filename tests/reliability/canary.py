"""Where a provider secret could leak, searched for a canary: every page as every role, the
admin, django-q2's task rows, the logs and a dump of the database (pickled and signed
values decoded, the key's own ciphertext left out)."""

import base64
import io
import json
import pickle
from collections.abc import Iterator

from django.contrib import admin
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_q.models import OrmQ, Task

from history.models import Job, SyncRun
from providers.models import Credential
from teams.models import Team

ROLES = ("owner", "admin", "member", "viewer", "outsider")


def pages(credential: Credential, team: Team) -> Iterator[str]:
    """Every page a person might open about this key, its jobs and its team."""
    yield from ("/history/", "/history/?q=canary", "/history/export.json", "/history/export.csv", "/keys/")
    yield from ("/teams/", f"/teams/{team.slug}/", f"/teams/{team.slug}/members/", f"/teams/{team.slug}/shares/")
    yield credential.get_absolute_url()
    echoed = Job.objects.filter(credential=credential, title__startswith="made with")
    for job in [*echoed, *Job.objects.filter(credential=credential).order_by("-created")[:5]]:
        yield f"/history/{job.code}/"
        yield f"/history/{job.code}/row/"
    for run in SyncRun.objects.filter(credential=credential):
        yield f"/history/sync/runs/{run.code}/"


def admin_pages() -> Iterator[str]:
    """Every admin list, a search, and the change pages of a few rows of each model."""
    yield "/admin/"
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        try:
            yield reverse(f"{name}_changelist")
        except NoReverseMatch:
            continue
        yield reverse(f"{name}_changelist") + "?q=sim"
        for pk in model._default_manager.values_list("pk", flat=True)[:3]:
            try:
                yield reverse(f"{name}_change", args=[pk])
            except NoReverseMatch:
                break


def in_pages(client: Client, urls: Iterator[str], canary: str) -> dict[str, int]:
    found = {}
    for url in urls:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace") + str(response.headers)
        if canary in text:
            found[url] = text.count(canary)
    return found


def in_task_rows(canary: str) -> int:
    """django-q2 pickles task arguments and results, and queued payloads: decoded here."""
    count = 0
    for task in Task.objects.all():
        count += repr((task.name, task.func, task.args, task.kwargs, task.result)).count(canary)
    for queued in OrmQ.objects.all():
        count += repr(queued.task).count(canary)
    return count


def in_database(canary: str) -> int:
    """A dump of every table, without the key's ciphertext, with sessions, cache values and
    django-q2's pickles decoded (a dump alone would show them as base64)."""
    out = io.StringIO()
    call_command("dumpdata", "--all", stdout=out, exclude=["django_q"])
    rows = json.loads(out.getvalue())
    for row in rows:
        if row["model"] == "providers.credential":
            row["fields"].pop("secret")
    text = json.dumps(rows, ensure_ascii=False)
    text += "".join(repr(Session.objects.get(pk=s.pk).get_decoded()) for s in Session.objects.all())
    with connection.cursor() as cursor:
        if "genboard_cache" in connection.introspection.table_names():
            cursor.execute("SELECT value FROM genboard_cache")
            for (value,) in cursor.fetchall():
                text += repr(pickle.loads(base64.b64decode(value)))  # noqa: S301 (our own cache rows)
    return text.count(canary) + in_task_rows(canary)
