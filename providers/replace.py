"""Replacing a key's secret without losing a working one.

The new secret is checked with the provider before anything is saved: when the provider
refuses it (a typo, a revoked key), the stored secret stays and the person sees the
provider's answer. When the provider cannot be asked at all (down, unreachable), the person
may replace it anyway; the next sync checks it.
"""

from django.utils import timezone

from .http import OutOfCredits, ProviderError
from .models import Credential
from .registry import PROVIDERS


def _without(secret: str, text: str) -> str:
    """The provider's words with the new secret, should they echo it, cut to its last four
    (they are shown on the page and may be stored as the key's last error)."""
    return text.replace(secret, "…" + secret[-4:]) if len(secret) >= 4 else text


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


class NotReplaced(Exception):
    """Nothing was saved. `checkable` is False when the provider refused the new secret,
    True when it could not be asked (then "replace anyway" is offered)."""

    def __init__(self, message: str, *, checkable: bool):
        super().__init__(message)
        self.message = message
        self.checkable = checkable


def replace_secret(credential: Credential, secret: str, *, anyway: bool = False) -> None:
    """Check `secret` with the provider, then store it on `credential` with the check's outcome.
    Raises NotReplaced, leaving the stored secret as it was."""
    provider = credential.get_provider_display()
    now = timezone.now()
    status, error, balance = Credential.Status.OK, "", ""
    try:
        balance = PROVIDERS[credential.provider](secret).check_key()
    except OutOfCredits as e:
        # The provider knows the key: it is the right one, its account is just empty.
        status, error = Credential.Status.OUT_OF_CREDITS, _without(secret, e.message)
    except ProviderError as e:
        said = _sentence(_without(secret, e.message))
        if e.permanent:
            message = f"{provider} refused the new key: {said} Your saved key is unchanged."
            raise NotReplaced(message, checkable=False) from e
        if not anyway:
            raise NotReplaced(
                f"{provider} could not be asked about the new key: {said} Your saved key is unchanged; "
                "paste the new key again and tick “Replace anyway” to save it without a check.",
                checkable=True,
            ) from e
        status, error = Credential.Status.UNCHECKED, _without(secret, e.message)
    credential.set_secret(secret)
    credential.status, credential.last_error, credential.balance = status, error[:500], balance[:100]
    credential.checked = None if status == Credential.Status.UNCHECKED else now
    if status == Credential.Status.OUT_OF_CREDITS:
        credential.paused_until = now + Credential.OUT_OF_CREDITS_PAUSE
    credential.save()
