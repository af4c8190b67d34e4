"""System checks that stop a production start with a clear message.

They run with every management command (runserver, migrate, qcluster) and from
config/wsgi.py, so a misconfigured production process never serves a request.
"""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

GENERATE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"  # noqa: S105 (a command, not a key)
GENERATE_FERNET_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


def weak_secret_key(secret_key: str) -> bool:
    """Django's own criteria (check --deploy's W009), which only warn: here they stop the start."""
    return (
        len(secret_key) < SECRET_KEY_MIN_LENGTH
        or len(set(secret_key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or secret_key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


def not_fernet_keys(keys: list[str]) -> list[int]:
    """Positions (1-based) of the values that are not Fernet keys."""
    bad = []
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            bad.append(position)
    return bad


@register()
def production_secrets(app_configs, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    errors = []
    try:
        secret_key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to even read an empty one
        secret_key = ""
    if not secret_key:
        errors.append(
            Error(
                "SECRET_KEY is not set.",
                hint="Set the SECRET_KEY environment variable to a long random string "
                f"({GENERATE_SECRET_KEY}), or DEBUG=1 for development.",
                id="genboard.E001",
            )
        )
    elif weak_secret_key(secret_key):
        errors.append(
            Error(
                f"SECRET_KEY is too weak: it needs at least {SECRET_KEY_MIN_LENGTH} characters, "
                f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different, and no '{SECRET_KEY_INSECURE_PREFIX}' prefix.",
                hint=f"Generate one with {GENERATE_SECRET_KEY}",
                id="genboard.E003",
            )
        )
    if not settings.CREDENTIAL_ENCRYPTION_KEYS:
        errors.append(
            Error(
                "CREDENTIAL_ENCRYPTION_KEYS is not set: provider keys cannot be stored encrypted.",
                hint="Set it to one or more comma-separated Fernet keys, the first one encrypting "
                f"({GENERATE_FERNET_KEY}).",
                id="genboard.E002",
            )
        )
    elif bad := not_fernet_keys(settings.CREDENTIAL_ENCRYPTION_KEYS):
        # Named by position, never by value: the message reaches logs.
        errors.append(
            Error(
                "CREDENTIAL_ENCRYPTION_KEYS holds values that are not Fernet keys (32 url-safe base64-encoded "
                f"bytes): number {', '.join(map(str, bad))} of {len(settings.CREDENTIAL_ENCRYPTION_KEYS)}.",
                hint=f"Generate a key with {GENERATE_FERNET_KEY}",
                id="genboard.E004",
            )
        )
    return errors


def refuse_misconfigured_start() -> None:
    """Run the system checks from config/wsgi.py and config/asgi.py.

    Servers like gunicorn skip Django's system checks; this makes production refuse to
    start without its secrets instead of failing on the first request.
    """
    import io

    from django.core.management import call_command

    call_command("check", fail_level="ERROR", stdout=io.StringIO())


@register()
def trusted_proxy_count(app_configs, **kwargs) -> list[Error]:
    value = str(getattr(settings, "TRUSTED_PROXY_COUNT", "0"))
    if value.isdigit():
        return []
    return [
        Error(
            f"TRUSTED_PROXY_COUNT must be a whole number, not “{value}”.",
            hint="Set it to the number of proxies in front of Genboard that append to X-Forwarded-For "
            "(0, the default, when clients connect directly).",
            id="genboard.E005",
        )
    ]
