from django.core.management.base import BaseCommand

from history.management.keys import add_key_arguments, key_label, selected_keys
from history.reparse import reparse_credential


class Command(BaseCommand):
    help = (
        "Read every stored job's raw provider record again with today's adapters, filling the "
        "fields they have learnt since the job was imported. Asks no provider; a status only "
        "moves forward."
    )

    def add_arguments(self, parser):
        add_key_arguments(parser)

    def handle(self, *args, user=None, provider=None, **options):
        for credential in selected_keys(user, provider):
            label = key_label(credential)
            tally = reparse_credential(
                credential, progress=lambda seen, label=label: self.stdout.write(f"{label}: {seen} read…")
            )
            summary = f"{tally.updated} updated"
            if tally.skipped:
                summary += f", {tally.skipped} unreadable records left as they were"
            self.stdout.write(self.style.SUCCESS(f"{label}: {summary}"))
