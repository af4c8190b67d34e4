"""Provider secrets kept out of everything a provider sends back.

Every byte a provider sends reaches Genboard through Provider.call(): the errors it raises
and the Response it returns both pass through a Redactor there, so no later step (an
adapter reading `msg` from a 200 body, a raw record stored on a job, a sync-run message,
a key's last error) can carry the key on. A provider may echo the key in any string of its
answer, in any case, and JSON may escape any of its characters: the body's bytes are
masked, and so is every string of the decoded JSON.
"""

import re
from typing import Any

# Shorter secrets would mask ordinary words; no provider issues keys this short.
MIN_SECRET = 4


def mask(secret: str) -> str:
    return "…" + secret[-4:]


class Redactor:
    """Replaces one secret, wherever and however it appears, with "…" + its last four."""

    def __init__(self, secret: str):
        self.secret = secret
        self.active = len(secret) >= MIN_SECRET
        self._pattern = re.compile(re.escape(secret), re.IGNORECASE) if self.active else None
        self._bytes = re.compile(re.escape(secret.encode()), re.IGNORECASE) if self.active else None
        self._mask = mask(secret)

    def text(self, value: str) -> str:
        if not self.active or not isinstance(value, str):
            return value
        return self._pattern.sub(self._mask, value)

    def raw(self, body: bytes) -> bytes:
        if not self.active:
            return body
        return self._bytes.sub(self._mask.encode(), body)

    def value(self, data: Any) -> Any:
        """The same JSON value with the secret masked in every string, keys included."""
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, list):
            return [self.value(item) for item in data]
        if isinstance(data, dict):
            return {self.text(k) if isinstance(k, str) else k: self.value(v) for k, v in data.items()}
        return data
