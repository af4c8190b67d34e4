"""What every provider adapter shares: settings-driven base URL, auth headers, calls through
the one HTTP layer, and secrets kept out of every error message."""

from abc import ABC, abstractmethod
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings

from .balances import Balance
from .http import Http, ProviderError, Response, default_http
from .records import JobRecord, Page
from .redaction import Redactor

# Key checks run while a person waits on the key form: fail fast.
KEY_CHECK_DEADLINE = 10.0


class Provider(ABC):
    """One provider's API, as the sync engine and the views use it.

    List providers name their history `streams` (API Mall has "audio" and "images") and read
    them a page at a time, newest first, with `history_page(stream, index)`. Providers with a
    per-job detail call (`refreshes_per_job`) are refreshed with `job(external_id)`; the
    others by re-reading the page a job is on. Apikley has no list at all: its jobs enter by
    import of task ids.
    """

    slug: ClassVar[str]
    name: ClassVar[str]
    base_url_setting: ClassVar[str]
    # Where the person finds their key, shown on the key form.
    key_help: ClassVar[str] = ""
    streams: ClassVar[tuple[str, ...]] = ("",)
    page_size: ClassVar[int] = 50
    refreshes_per_job: ClassVar[bool] = False
    # A 429 limits one job, not the key (Apikley: 3 requests/s per task).
    rate_limit_per_job: ClassVar[bool] = False
    # Jobs of this provider can be imported by id (Apikley).
    imports_ids: ClassVar[bool] = False
    # How long an imported id the provider does not know stays pending before it fails.
    not_known_grace: ClassVar[timedelta] = timedelta(0)
    # How long the provider keeps result files after a job finishes, where it says (None:
    # unknown). The history shows "expiring in N days" for files not archived yet.
    media_retention: ClassVar[timedelta | None] = None

    def __init__(self, secret: str, http: Http | None = None):
        self.secret = secret
        self.http = http or default_http()
        self.redactor = Redactor(secret)

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
        """The one way in for what a provider sends: its errors and its answers leave here
        with the key masked (providers/redaction.py), whatever part of them echoes it."""
        headers = {"Accept": "application/json", **self.auth_headers()}
        try:
            response = self.http.request(
                method, self.base_url + path, headers=headers, params=params, json_body=json_body, deadline=deadline
            )
        except ProviderError as e:
            raise self.redact(self.classify(e)) from e.__cause__
        response.body = self.redactor.raw(response.body)
        response.clean = self.redactor.value
        return response

    def classify(self, error: ProviderError) -> ProviderError:
        """The error as this provider means it: an adapter whose error bodies say more than
        the HTTP status (AudioPod's insufficient_api_balance) returns a sharper one."""
        return error

    def redact(self, error: ProviderError) -> ProviderError:
        """A provider may echo the key back in its error text: keep only the last four."""
        error.message = self.redactor.text(error.message)
        error.code = self.redactor.text(error.code)
        error.args = (error.message,)
        return error

    @abstractmethod
    def check_key(self) -> str:
        """Make the provider's cheapest authenticated call.

        Returns a short description of what it said (the balance); raises KeyRejected for a
        key the provider refuses, another ProviderError when the check could not be made.
        """

    @classmethod
    def stream_for(cls, kind: str) -> str:
        """The history stream jobs of this kind are listed in."""
        return cls.streams[0]

    @classmethod
    @abstractmethod
    def parse_stored(cls, raw: dict, external_id: str, kind: str) -> JobRecord:
        """A record stored in Job.raw read again as this adapter reads it today
        (`manage.py reparse`: jobs imported before the adapter learnt a field)."""

    def balance(self) -> "Balance | None":
        """What the key has left (providers.balances); None where the provider has no balance call."""
        return None

    def history_page(self, stream: str, index: int) -> Page:
        """Page `index` (0 = newest) of one history stream."""
        raise NotImplementedError(f"{self.name} has no history list")

    def not_found(self, error: ProviderError) -> str:
        """The error stored on an imported id the provider never knew."""
        return error.message

    def job(self, external_id: str) -> JobRecord:
        """One job's current state. Raises ProviderError; status 404 when the provider does not know it."""
        raise NotImplementedError(f"{self.name} has no per-job call")


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
