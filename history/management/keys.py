"""What the per-key management commands (sync, reparse) share: choosing keys by --user and
--provider, and naming a key in their output (never more of its secret than the last four)."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from providers.models import Credential, CredentialQuerySet
from providers.registry import PROVIDERS


def add_key_arguments(parser) -> None:
    parser.add_argument("--user", help="only this user's keys (username)")
    parser.add_argument("--provider", choices=sorted(PROVIDERS), help="only keys of this provider")


def selected_keys(user: str | None, provider: str | None) -> CredentialQuerySet:
    credentials = Credential.objects.select_related("owner").order_by("owner__username", "provider", "label")
    if user:
        if not get_user_model().objects.filter(username=user).exists():
            raise CommandError(f"No user named “{user}”.")
        credentials = credentials.filter(owner__username=user)
    if provider:
        credentials = credentials.filter(provider=provider)
    return credentials


def key_label(credential: Credential) -> str:
    return f"{credential.owner.username} / {credential.label} ({credential.provider} …{credential.last4})"
