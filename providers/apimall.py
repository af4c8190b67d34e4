"""API Mall gateway: audio and image history (shared/providers/apimall-*.txt)."""

from .base import KEY_CHECK_DEADLINE, Provider, format_credits
from .http import ProviderError


class ApiMall(Provider):
    slug = "apimall"
    name = "API Mall"
    base_url_setting = "APIMALL_BASE_URL"
    key_help = "Create one under API Keys at apimall.ai."

    def check_key(self) -> str:
        body = self.call("GET", "/api/v1/account/balances", deadline=KEY_CHECK_DEADLINE).json()
        if not isinstance(body, dict) or not body.get("success"):
            raise ProviderError(f"API Mall did not confirm the key: {_error_text(body)}")
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        return format_credits(data.get("api_credits", data.get("credits"))) or "Key accepted"


def _error_text(body: object) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"].get("code") or "unknown error")[:300]
    return "unexpected answer"
