"""What a person marks on jobs they can see: stars and notes (only ever seen by that person)
and tags (a person's own, or a team's, seen by its members on the jobs shared with it).

Marks never change a job: they are rows of their own, keyed by (person or tag, job), so the
history's rows stay cached per job and the viewer's marks join their cache key
(annotations.marks)."""

import uuid

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from history.models import Job
from teams.models import Team

NAME_MAX = 40
NOTE_MAX = 2000


def dated(mark) -> None:
    """A star or tag link made one at a time gets its job's date (annotations.bulk writes
    it for many in the same statement)."""
    if mark.job_created is None:
        mark.job_created = mark.job.created


def follow_dates(job_ids) -> None:
    """Copy these jobs' `created` to their stars and tag links again: history.sync.store
    calls it for the jobs an import gave another date (a provider's real one, where the
    first record had none)."""
    created = Subquery(Job.objects.filter(pk=OuterRef("job_id")).values("created")[:1])
    for model in (Star, JobTag):
        model.objects.filter(job_id__in=job_ids).update(job_created=created)


class Star(models.Model):
    """A job a person starred. Personal: nobody else ever sees it."""

    # No index of its own: the unique (user, job) constraint's index starts with it. The job's
    # (Django's, for the foreign key) finds a deleted job's stars.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="stars", db_index=False)
    job = models.ForeignKey(Job, models.CASCADE, related_name="stars")
    created = models.DateTimeField(default=timezone.now)
    # The job's own `created`, kept in step (follow_dates): the starred filter walks a
    # person's stars newest job first down star_by_user_date, a page at a time, instead of
    # reading every starred job to sort them.
    job_created = models.DateTimeField()

    class Meta:
        constraints = [
            # One star per person and job; also the index a page's stars are read by
            # (user, job IN page).
            models.UniqueConstraint(fields=["user", "job"], name="star_one_per_user_and_job"),
        ]
        indexes = [models.Index(fields=["user", "-job_created", "-job"], name="star_by_user_date")]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.job_id}"

    def save(self, *args, **kwargs):
        dated(self)
        super().save(*args, **kwargs)


class Note(models.Model):
    """A person's plain-text note on a job. Personal: nobody else ever sees it."""

    # As Star's: the unique (user, job) index serves the person, the foreign key's the job.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notes", db_index=False)
    job = models.ForeignKey(Job, models.CASCADE, related_name="notes")
    text = models.TextField(max_length=NOTE_MAX)
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One note per person and job; also the index a page's notes are read by, and
            # the search's (a person's notes, then the text).
            models.UniqueConstraint(fields=["user", "job"], name="note_one_per_user_and_job"),
        ]

    def __str__(self) -> str:
        return f"{self.user}'s note on {self.job_id}"


class Tag(models.Model):
    """A name put on jobs: a person's own (`owner`), or a team's (`team`), which its members
    see on the jobs they see through that team. Exactly one of the two is set."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=NAME_MAX)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="tags")
    team = models.ForeignKey(Team, models.CASCADE, null=True, blank=True, related_name="tags")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False, team__isnull=True)
                | models.Q(owner__isnull=True, team__isnull=False),
                name="tag_owner_or_team",
            ),
            # One tag per name (whatever its case) per person and per team; also the index
            # the tag pickers and the add form look names up by.
            models.UniqueConstraint(
                "owner", Lower("name"), name="tag_name_once_per_owner", condition=models.Q(owner__isnull=False)
            ),
            models.UniqueConstraint(
                "team", Lower("name"), name="tag_name_once_per_team", condition=models.Q(team__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def make(cls, name: str, **owner_or_team) -> "Tag":
        """A new tag of this name for this person (`owner=`) or team (`team=`), or the one of
        that name (whatever its case) made meanwhile: two requests making it at once end with
        the one tag (the unique constraint decides). Asked once the tag form found none
        (TagForm.chosen, the bulk bar)."""
        try:
            with transaction.atomic():
                return cls.objects.create(name=name, **owner_or_team)
        except IntegrityError:
            return cls.objects.get(name__iexact=name, **owner_or_team)


class JobTag(models.Model):
    """A tag on a job."""

    # The unique (tag, job) index serves the tag; the job's foreign-key index a page's tags
    # (job IN the page's ids) and a deleted job's links.
    tag = models.ForeignKey(Tag, models.CASCADE, related_name="links", db_index=False)
    job = models.ForeignKey(Job, models.CASCADE, related_name="tag_links")
    # Who put it there (team tags are put by any member); kept when they leave.
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    # The job's `created`, kept in step as Star.job_created is: the tag filter's walk.
    job_created = models.DateTimeField()

    class Meta:
        constraints = [
            # A tag once per job (and a tag's jobs for the other sorts).
            models.UniqueConstraint(fields=["tag", "job"], name="jobtag_once_per_job"),
        ]
        indexes = [models.Index(fields=["tag", "-job_created", "-job"], name="jobtag_by_tag_date")]

    def __str__(self) -> str:
        return f"{self.tag} on {self.job_id}"

    def save(self, *args, **kwargs):
        dated(self)
        super().save(*args, **kwargs)
