from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from providers.models import Credential
from providers.registry import PROVIDERS

USERNAME, PASSWORD = "demo", "demo-genboard-2026"


class Command(BaseCommand):
    help = "Create (or refresh) the demo user with one simulator key per provider. Idempotent."

    def handle(self, *args, **options):
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"email": "demo@genboard.local"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        for slug, provider in PROVIDERS.items():
            credential = Credential.objects.filter(owner=user, provider=slug).first()
            if credential is None:
                credential = Credential(owner=user, provider=slug, label=f"Demo {provider.name}")
                credential.set_secret(f"sim-{slug}-demo")
                credential.save()
            credential.check_with_provider()
            self.stdout.write(f"  {credential.label}: {credential.get_status_display()} {credential.last_error}")
        self.stdout.write(f"Demo user: {USERNAME} / {PASSWORD}")
