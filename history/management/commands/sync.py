import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from history import outage
from history.management.keys import add_key_arguments, key_label, selected_keys
from history.models import Job, SyncRun
from history.sync import sync_credential


class Command(BaseCommand):
    help = (
        "Sync now, in the foreground: read the newest history of every selected key that is not "
        "rejected or waiting out a Retry-After, and refresh its unfinished jobs that are due. "
        "Exits 0 when providers fail (each failure is reported), non-zero only for its own errors."
    )

    def add_arguments(self, parser):
        add_key_arguments(parser)

    def handle(self, *args, user=None, provider=None, **options):
        credentials = selected_keys(user, provider)
        now = timezone.now()
        synced = 0
        # Each provider gets a share of the pass; one that went down in it is not asked again
        # (history/outage.py).
        budget = outage.PassBudget(outage.pass_budget())
        for credential in credentials:
            label = key_label(credential)
            if why := budget.waiting(credential.provider):
                self.stdout.write(f"{label}: skipped, {why}")
                continue
            if not credential.usable:
                self.stdout.write(f"{label}: skipped, key {credential.get_status_display().lower()}")
                continue
            if credential.paused_until and credential.paused_until > now:
                self.stdout.write(f"{label}: skipped, waiting until {credential.paused_until:%H:%M:%S} UTC")
                continue
            started = time.monotonic()
            outcome = sync_credential(
                credential.pk, trigger=SyncRun.Trigger.COMMAND, budget=budget.remaining(credential.provider)
            )
            budget.spend(credential.provider, time.monotonic() - started, down=outcome.provider_down if outcome else "")
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
