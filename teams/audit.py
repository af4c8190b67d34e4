"""The audit trail: one small function every part of Genboard calls to say who did what.

    from teams import audit
    audit.record(request.user, audit.Verb.JOB_RETRY, subject=audit.describe_job(job))
    audit.record_for_job(request.user, audit.Verb.JOB_DELETE, job)   # also on the teams' pages

Subjects are plain text. Keys are named by label, provider and at most their last four
characters (describe_key), never by their secret: pass a Credential, not anything read from it.
"""

from django.db.models import Model

from .models import AuditEvent, Share

Verb = AuditEvent.Verb
SUBJECT_MAX = AuditEvent._meta.get_field("subject").max_length


def describe_key(credential, *, last4: bool = True) -> str:
    """A key as the trail names it: label, provider and last four characters at most. Events
    on a team's page leave the last four out: only a key's owner sees those in the teams."""
    suffix = f" …{credential.last4}" if last4 else ""
    return f"“{credential.label}” ({credential.get_provider_display()}{suffix})"


def describe_job(job) -> str:
    name = job.title or job.external_id
    return f"“{name}” ({job.get_provider_display()} {job.get_kind_display().lower()}, key {job.credential.label})"


def record(actor, verb: str, *, team=None, subject: str | Model = "") -> AuditEvent:
    """Record one event. `actor` may be None (the system) or an anonymous user; `team` is the
    team whose page lists the event, or None for events only the admin shows."""
    if isinstance(subject, Model):
        # A key (anything with last4) is described, never str()-ed field by field.
        subject = describe_key(subject, last4=team is None) if hasattr(subject, "last4") else str(subject)
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        team=team,
        actor=user,
        actor_name=user.get_username() if user else "",
        verb=str(verb),
        subject=subject[:SUBJECT_MAX],
    )


def record_for_job(actor, verb: str, job, detail: str = "") -> list[AuditEvent]:
    """Record an action on a job (retry, delete, rename, refresh): on the page of every team
    its key is shared with, so the people who see the job see what happened to it; or once,
    for the admin only, when the key is not shared."""
    subject = describe_job(job) + (f": {detail}" if detail else "")
    teams = [share.team for share in Share.objects.filter(credential_id=job.credential_id).select_related("team")]
    return [record(actor, verb, team=team, subject=subject) for team in teams or [None]]


def record_for_jobs(actor, verb: str, credential, names: list[str]) -> list[AuditEvent]:
    """record_for_job() for many jobs of one key at once (a bulk removal): one event per team
    the key is shared with (or one for the admin), naming how many and the first few, rather
    than thousands of events."""
    shown = ", ".join(f"“{name}”" for name in names[:3])
    more = f" and {len(names) - 3:,} more" if len(names) > 3 else ""
    subject = f"{len(names):,} job{'s' if len(names) != 1 else ''} of key {credential.label}: {shown}{more}"
    teams = [share.team for share in Share.objects.filter(credential=credential).select_related("team")]
    return [record(actor, verb, team=team, subject=subject) for team in teams or [None]]
