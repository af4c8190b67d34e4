"""What every provider adapter shares: settings-driven base URL, auth headers, calls through
the one HTTP layer, and secrets kept out of every error message."""

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from django.conf import settings

from .http import Http, ProviderError, Response, default_http

# Key checks run while a person waits on the key form: fail fast.
KEY_CHECK_DEADLINE = 10.0


class Provider(ABC):
    slug: ClassVar[str]
    name: ClassVar[str]
    base_url_setting: ClassVar[str]
    # Where the person finds their key, shown on the key form.
    key_help: ClassVar[str] = ""

    def __init__(self, secret: str, http: Http | None = None):
        self.secret = secret
        self.http = http or default_http()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} key …{self.secret[-4:]}>"

    @property
    def base_url(self) -> str:
        return getattr(settings, self.base_url_setting).rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        deadline: float | None = None,
    ) -> Response:
        headers = {"Accept": "application/json", **self.auth_headers()}
        try:
            return self.http.request(
                method, self.base_url + path, headers=headers, params=params, json_body=json_body, deadline=deadline
            )
        except ProviderError as e:
            raise self.redact(e) from e.__cause__

    def redact(self, error: ProviderError) -> ProviderError:
        """A provider may echo the key back in its error text: keep only the last four."""
        if len(self.secret) >= 4 and self.secret in error.message:
            error.message = error.message.replace(self.secret, "…" + self.secret[-4:])
            error.args = (error.message,)
        return error

    @abstractmethod
    def check_key(self) -> str:
        """Make the provider's cheapest authenticated call.

        Returns a short description of what it said (the balance); raises KeyRejected for a
        key the provider refuses, another ProviderError when the check could not be made.
        """


def as_number(value: Any) -> float | int | None:
    """A JSON number or numeric string as int/float; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None


def format_credits(value: Any, unit: str = "credits") -> str:
    number = as_number(value)
    if number is None:
        return ""
    return f"{number:,} {unit}" if isinstance(number, int) else f"{number:,.2f} {unit}"
