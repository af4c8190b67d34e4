"""Apikley, a kie.ai Suno API reseller: per-task details only (shared/providers/apikley-*.txt).

Its errors may arrive as HTTP 200 with a `code` other than 200 in the body.
"""

from typing import Any

from .base import KEY_CHECK_DEADLINE, Provider, format_credits
from .http import KeyRejected, ProviderError, RateLimited


class Apikley(Provider):
    slug = "apikley"
    name = "Apikley (Suno)"
    base_url_setting = "APIKLEY_BASE_URL"
    key_help = "Find it on the API Key Management page at app.apikley.ru/keys."

    def check_key(self) -> str:
        body = self.call("GET", "/api/v1/chat/credit", deadline=KEY_CHECK_DEADLINE).json()
        raise_for_code(body)
        return format_credits(body.get("data")) or "Key accepted"


def raise_for_code(body: Any) -> None:
    """Raise the typed error an Apikley body carries in `code`, if any."""
    if not isinstance(body, dict):
        raise ProviderError("Apikley sent an unexpected answer (not a JSON object).")
    code = body.get("code")
    if code == 200:
        return
    msg = str(body.get("msg") or "no message")[:300]
    text = f"Apikley answered code {code}: {msg}"
    if code == 401:
        raise KeyRejected(text, status=401, code="401")
    if code == 429:
        raise RateLimited(text, status=429, code="429", retry_after=1.0)
    raise ProviderError(text, status=code if isinstance(code, int) else None, code=str(code))
