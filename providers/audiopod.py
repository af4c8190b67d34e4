"""AudioPod music jobs (shared/providers/audiopod-music-jobs.txt)."""

from .base import KEY_CHECK_DEADLINE, Provider, as_number


class AudioPod(Provider):
    slug = "audiopod"
    name = "AudioPod"
    base_url_setting = "AUDIOPOD_BASE_URL"
    key_help = "Keys start with ap_; create one in your AudioPod account settings."

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.secret}

    def check_key(self) -> str:
        body = self.call("GET", "/api/v1/api-wallet/balance", deadline=KEY_CHECK_DEADLINE).json()
        if isinstance(body, dict):
            for field, unit in (("balance_usd", "USD"), ("balance", ""), ("credits", "credits")):
                number = as_number(body.get(field))
                if number is not None:
                    return f"Balance {number:,.2f} {unit}".strip()
        return "Key accepted"
