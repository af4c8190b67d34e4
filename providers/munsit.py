"""Munsit denoise history (shared/providers/denoise-history.txt)."""

from .base import KEY_CHECK_DEADLINE, Provider
from .http import ProviderError


class Munsit(Provider):
    slug = "munsit"
    name = "Munsit (denoise)"
    base_url_setting = "MUNSIT_BASE_URL"
    key_help = "Find it in your Munsit dashboard under API keys."

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.secret}

    def check_key(self) -> str:
        # Munsit has no balance call: the smallest history read is its cheapest authenticated
        # call. Always send a limit: without one Munsit returns the whole history.
        body = self.call("GET", "/api/v1/denoise", params={"offset": 0, "limit": 1}, deadline=KEY_CHECK_DEADLINE)
        if not isinstance(body.json(), list):
            raise ProviderError("Munsit sent an unexpected answer (not a list of records).")
        return "Key accepted"
