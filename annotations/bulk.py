"""Stars and tags on many jobs at once, in one statement each, whatever the number of jobs
(the list's bulk bar, and the single-job buttons, which are the same call for one job).

Both take a queryset of jobs (Job.objects…), keep only those the person can see (the
queryset's visible_to(); for a team tag, those they see through that team) and never read
the jobs into Python.
"""

from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core.sql import placeholders
from history.models import JobQuerySet
from teams.models import Share

from . import access
from .models import JobTag, Star, Tag


def star(user, jobs: JobQuerySet, on: bool = True) -> int:
    """Star (`on`) or unstar the jobs of `jobs` that `user` can see; returns how many jobs
    changed (already starred or already unstarred ones are not counted). Jobs the person
    cannot see are left alone, silently: they are not counted, and nothing about them is
    revealed. A star is personal: nobody else sees it."""
    mine = jobs.visible_to(user)
    if not on:
        return Star.objects.filter(user=user, job__in=mine.values("pk")).delete()[0]
    return _insert_select(Star, {"user_id": user.pk, "created": timezone.now()}, mine)


def tag(user, tag: Tag, jobs: JobQuerySet, on: bool = True) -> int:
    """Put `tag` on (`on`) or take it off the jobs of `jobs` that `user` may tag with it;
    returns how many jobs changed (those that already had it, or had it not, are not
    counted).

    A personal tag: only its owner may use it, on jobs they can see. A team tag: members of
    the team with a role of member or stronger, on the jobs they see through that team (a
    key shared with it); other jobs are left alone, silently, as jobs the person cannot
    see are. Raises PermissionDenied for someone else's personal tag, a team the person is
    not in, or a viewer of the tag's team (viewers see team tags but do not change them)."""
    if tag.owner_id is not None:
        if tag.owner_id != user.pk:
            raise PermissionDenied("Not your tag.")
        mine = jobs.visible_to(user)
    else:
        if not access.may_tag_for(user, tag.team):
            raise PermissionDenied("Viewers cannot change a team's tags.")
        mine = jobs.visible_to(user).filter(
            credential_id__in=Share.objects.filter(team=tag.team).values("credential_id")
        )
    if not on:
        return JobTag.objects.filter(tag=tag, job__in=mine.values("pk")).delete()[0]
    return _insert_select(JobTag, {"tag_id": tag.pk, "added_by_id": user.pk, "created": timezone.now()}, mine)


def _insert_select(model, constants: dict, jobs: QuerySet) -> int:
    """INSERT INTO model (constants…, job_id, job_created) SELECT constants…, id, created FROM
    jobs, skipping jobs that have the row already; returns how many rows were inserted.

    Hand-written: bulk_create(ignore_conflicts=True) would read every job id into Python
    first and cannot say how many rows it inserted; this is one statement, the SELECT
    compiled by Django (every value a parameter), and the database counts for us."""
    using = router.db_for_write(model)
    connection = connections[using]
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    chosen = jobs.order_by().values(chosen_id=F("pk"), chosen_created=F("created"))
    select, params = chosen.query.get_compiler(using=using).as_sql()
    columns = ", ".join(quote(fields[name].column) for name in [*constants, "job_id", "job_created"])
    values = [fields[name].get_db_prep_save(value, connection) for name, value in constants.items()]
    slots = placeholders(len(values))
    unique = next(c for c in model._meta.constraints if getattr(c, "fields", None) and "job" in c.fields)
    conflict = ", ".join(quote(fields[model._meta.get_field(name).attname].column) for name in unique.fields)
    # SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT (its parser would
    # otherwise read ON as a join's).
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model's metadata)
        f"SELECT {slots}, chosen.chosen_id, chosen.chosen_created FROM ({select}) AS chosen WHERE 1 = 1 "
        f"ON CONFLICT ({conflict}) DO NOTHING"
    )
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(sql, [*values, *params])
        return cursor.rowcount
