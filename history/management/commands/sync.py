from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from history.models import Job, SyncRun
from history.sync import sync_credential
from providers.models import Credential
from providers.registry import PROVIDERS


class Command(BaseCommand):
    help = (
        "Sync now, in the foreground: read the newest history of every selected key that is not "
        "rejected or waiting out a Retry-After, and refresh its unfinished jobs that are due. "
        "Exits 0 when providers fail (each failure is reported), non-zero only for its own errors."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", help="only this user's keys (username)")
        parser.add_argument("--provider", choices=sorted(PROVIDERS), help="only keys of this provider")

    def handle(self, *args, user=None, provider=None, **options):
        credentials = Credential.objects.select_related("owner").order_by("owner__username", "provider", "label")
        if user:
            if not get_user_model().objects.filter(username=user).exists():
                raise CommandError(f"No user named “{user}”.")
            credentials = credentials.filter(owner__username=user)
        if provider:
            credentials = credentials.filter(provider=provider)
        now = timezone.now()
        synced = 0
        for credential in credentials:
            label = f"{credential.owner.username} / {credential.label} ({credential.provider} …{credential.last4})"
            if not credential.usable:
                self.stdout.write(f"{label}: skipped, key {credential.get_status_display().lower()}")
                continue
            if credential.paused_until and credential.paused_until > now:
                self.stdout.write(f"{label}: skipped, waiting until {credential.paused_until:%H:%M:%S} UTC")
                continue
            outcome = sync_credential(credential.pk, trigger=SyncRun.Trigger.COMMAND)
            if outcome is None:  # deleted meanwhile
                continue
            synced += 1
            run = outcome.run
            run.refresh_from_db()
            unfinished = Job.objects.filter(credential=credential, status__in=Job.UNFINISHED).count()
            summary = f"{run.new} new, {run.updated} updated, {unfinished} unfinished, {run.requests} requests"
            if run.skipped:
                summary += f", {run.skipped} malformed records skipped"
            if run.state == SyncRun.State.SKIPPED:
                self.stdout.write(f"{label}: skipped, {run.message}")
            elif outcome.error:
                self.stdout.write(self.style.WARNING(f"{label}: {summary}; error: {outcome.error}"))
            else:
                self.stdout.write(self.style.SUCCESS(f"{label}: {summary}"))
        self.stdout.write(f"{synced} key(s) synced.")
