"""System checks that stop a production start with a clear message.

They run with every management command (runserver, migrate, qcluster) and from
config/wsgi.py, so a misconfigured production process never serves a request.
"""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


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
                "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or DEBUG=1 for development.",
                id="genboard.E001",
            )
        )
    if not settings.CREDENTIAL_ENCRYPTION_KEYS:
        errors.append(
            Error(
                "CREDENTIAL_ENCRYPTION_KEYS is not set: provider keys cannot be stored encrypted.",
                hint="Set it to one or more comma-separated Fernet keys, the first one encrypting "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())').",
                id="genboard.E002",
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
