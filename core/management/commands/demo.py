import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from history.importer import import_task_ids
from hooks.setup import hook_for
from providers.http import ProviderError, default_http
from providers.models import Credential
from providers.registry import PROVIDERS
from teams import actions
from teams.models import Member, Team

PASSWORD = "demo-genboard-2026"  # noqa: S105 (the demo's published password)
TEAM = "Studio"


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo: user `demo` with one simulator key per provider, and user "
        "`theo` who shares his API Mall key with their team “Studio”. Idempotent. Needs the "
        "provider simulator (manage.py simulate_providers) at the *_BASE_URL settings."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--site",
            default="http://127.0.0.1:8000",
            help="Where this Genboard answers, for the simulator's webhooks (default http://127.0.0.1:8000).",
        )

    def handle(self, *args, **options):
        demo = self.user("demo")
        for slug, provider in PROVIDERS.items():
            # The demo's AudioPod account has Score-first (v3) jobs too (simulator/audiopod.py).
            name = "demo-score" if slug == "audiopod" else "demo"
            credential = self.key(demo, slug, f"Demo {provider.name}", f"sim-{slug}-{name}")
            self.register_webhooks(credential, options["site"])
        theo = self.user("theo")
        shared = self.key(theo, "apimall", "Theo's API Mall", "sim-apimall-theo-n400")
        team = Team.objects.filter(members__user=demo, name=TEAM).first() or actions.create_team(demo, TEAM)
        if not Member.objects.filter(team=team, user=theo).exists():
            actions.add_member(demo, team, theo, Member.Role.MEMBER)
        if not team.shares.filter(credential=shared).exists():
            actions.share(theo, team, shared)
        self.import_suno_tasks(demo)
        self.stdout.write(f"Demo users: demo / {PASSWORD} and theo / {PASSWORD} (team “{TEAM}”).")

    def user(self, username: str):
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@genboard.local"}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        return user

    def key(self, owner, provider: str, label: str, secret: str) -> Credential:
        credential = Credential.objects.filter(owner=owner, label=label).first()
        if credential is None:
            credential = Credential(owner=owner, provider=provider, label=label)
            credential.set_secret(secret)
            credential.save()
        credential.check_with_provider()
        self.stdout.write(f"  {owner.username}: {label}: {credential.get_status_display()} {credential.last_error}")
        return credential

    def register_webhooks(self, credential: Credential, site: str) -> None:
        """Give the simulator the key's callback URL and a signing secret, so the demo's Suno
        and AudioPod jobs report themselves (signed) the moment they move on."""
        hook = hook_for(credential)
        if hook is None:
            return
        if not hook.has_secret:
            prefix = "whsec_" if credential.provider == "audiopod" else ""
            hook.set_secret(prefix + secrets.token_urlsafe(24))
            hook.save()
        url = site.rstrip("/") + hook.get_absolute_url()
        body = {"key": credential.secret.reveal(), "url": url, "secret": hook.secret.reveal()}
        base = getattr(settings, PROVIDERS[credential.provider].base_url_setting).rstrip("/")
        try:
            default_http().request("POST", base + "/_sim/webhooks", json_body=body)
        except ProviderError as e:
            self.stderr.write(f"  Could not register the {credential.label} webhooks with the simulator: {e}")
            return
        self.stdout.write(f"  {credential.label}: the simulator calls back at {url}")

    def import_suno_tasks(self, owner) -> None:
        """Apikley has no history list: ask the simulator which task ids the demo key has."""
        credential = Credential.objects.get(owner=owner, provider="apikley")
        try:
            response = default_http().request(
                "GET",
                settings.APIKLEY_BASE_URL.rstrip("/") + "/_sim/apikley/task-ids",
                headers={"Authorization": f"Bearer {credential.secret.reveal()}"},
            )
            ids = [str(i) for i in response.json()["task_ids"]]
        except (ProviderError, KeyError, TypeError) as e:
            self.stderr.write(f"  Could not list the demo's Suno tasks (is the simulator running?): {e}")
            return
        new, known = import_task_ids(credential, ids)
        self.stdout.write(f"  Imported {new} Suno task id(s) ({known} already there).")
