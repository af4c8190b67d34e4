"""The one HTTP layer every provider call goes through.

A requests.Session with connect/read timeouts, an overall deadline, a cap on body size,
no redirects (a redirect could carry our X-API-Key header to another host: requests only
strips Authorization), connection retries for GETs only, JSON decoding that turns garbage
into a typed error, and failures classified the way the sync engine acts on them:

- KeyRejected (401/403): permanent; the key is marked rejected and no longer used.
- RateLimited (429): temporary, with the seconds the provider asked us to wait.
- OutOfCredits (402): the key works but its account has no credits; synced hourly.
- ProviderError(permanent=False): 5xx, timeouts, unreachable hosts, malformed bodies.

Error messages name the host and status, never request headers (which hold the key).
"""

import email.utils
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .records import human_error

USER_AGENT = "Genboard/0.1 (+history importer)"
DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 3600.0


class ProviderError(Exception):
    """A provider call failed. `permanent` means the key itself is unusable."""

    permanent = False

    def __init__(
        self,
        message: str,
        *,
        permanent: bool | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        code: str = "",
    ):
        super().__init__(message)
        self.message = message
        if permanent is not None:
            self.permanent = permanent
        self.status = status
        self.retry_after = retry_after
        self.code = code

    def __str__(self) -> str:
        return self.message


class KeyRejected(ProviderError):
    permanent = True


class RateLimited(ProviderError):
    def __init__(self, message: str, *, retry_after: float = DEFAULT_RETRY_AFTER, **kwargs: Any):
        super().__init__(message, retry_after=retry_after, **kwargs)


class OutOfCredits(ProviderError):
    """The provider knows the key, but the account behind it has no credits left (HTTP 402,
    or a provider's own way of saying so: each adapter maps its own)."""


class Unreachable(ProviderError):
    """No answer at all: DNS, refused connection, TLS failure, timeout."""


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    host: str
    # Applied to the decoded JSON (Provider.call sets it to mask the key; see redaction.py).
    clean: Callable[[Any], Any] | None = None

    def json(self) -> Any:
        try:
            data = json.loads(self.body)
            return self.clean(data) if self.clean else data
        except (ValueError, UnicodeDecodeError) as e:
            raise ProviderError(
                f"{self.host} sent a malformed response (not JSON, {len(self.body)} bytes).", status=self.status
            ) from e


def parse_retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), bounded."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)


def error_message(body: bytes) -> str:
    """The provider's own words from an error body (records.human_error reads every shape)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    return human_error(data)


def error_code(body: bytes) -> str:
    """The provider's machine-readable error code, where its error body has one: AudioPod's
    `{"error": "insufficient_api_balance"}` or `{"detail": {"code": …}}`, API Mall's
    `{"error": {"code": …}}`, Munsit's `{"errorCode": …}`."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    if not isinstance(data, dict):
        return ""
    for holder in (data, data.get("error"), data.get("detail")):
        if isinstance(holder, dict):
            code = holder.get("code") if holder is not data else data.get("errorCode")
            if isinstance(code, str | int) and not isinstance(code, bool):
                return str(code)[:60]
    error = data.get("error")
    if isinstance(error, str) and error.isidentifier():
        return error[:60]
    return ""


class Http:
    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        deadline: float = 60.0,
        max_bytes: int = 20 * 1024 * 1024,
    ):
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # Retry only what is safe to repeat: GETs whose connection failed before sending.
        # Never sleep on a Retry-After here: the sync engine reschedules instead.
        retry = Retry(
            total=2,
            connect=2,
            read=0,
            status=0,
            other=0,
            allowed_methods={"GET"},
            backoff_factor=0.2,
            respect_retry_after_header=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=8)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        deadline: float | None = None,
    ) -> Response:
        """Send one request; return a 2xx Response or raise a classified ProviderError."""
        host = urlsplit(url).netloc or url
        give_up_at = time.monotonic() + (deadline or self.deadline)
        try:
            with self.session.request(
                method,
                url,
                headers=headers,
                params=params,
                json=json_body,
                timeout=(self.connect_timeout, self.read_timeout),
                stream=True,
                allow_redirects=False,
            ) as r:
                body = self._read(r, host, give_up_at)
                status, resp_headers = r.status_code, r.headers
        except requests.Timeout as e:
            raise Unreachable(f"{host} did not answer in time.") from e
        except requests.ConnectionError as e:
            # With retries configured, requests reports a read timeout as a ConnectionError.
            if isinstance(getattr(e.args[0] if e.args else None, "reason", None), urllib3.exceptions.ReadTimeoutError):
                raise Unreachable(f"{host} did not answer in time.") from e
            raise Unreachable(f"Could not connect to {host}.") from e
        except requests.RequestException as e:
            raise Unreachable(f"Request to {host} failed ({type(e).__name__}).") from e

        response = Response(status=status, headers=resp_headers, body=body, host=host)
        if 200 <= status < 300:
            return response
        said, code = error_message(body), error_code(body)
        detail = f"{host} answered {status}" + (f": {said}" if said else ".")
        if status in (401, 403):
            raise KeyRejected(detail, status=status, code=code)
        if status == 402:
            raise OutOfCredits(detail, status=status, code=code)
        if status == 429:
            raise RateLimited(
                detail, status=status, code=code, retry_after=parse_retry_after(resp_headers.get("Retry-After"))
            )
        if 300 <= status < 400:
            raise ProviderError(f"{host} answered with an unexpected redirect ({status}).", status=status)
        raise ProviderError(detail, status=status, code=code)

    def _read(self, r: requests.Response, host: str, give_up_at: float) -> bytes:
        declared = r.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ProviderError(f"{host} sent a response larger than {self.max_bytes} bytes.", status=r.status_code)
        chunks, size = [], 0
        while True:
            # read1 returns what one read from the socket brought: a provider trickling its
            # answer is held to the deadline piece by piece (iter_content would wait for a
            # whole 64 KB chunk, or the end of the body, before looking at the clock).
            try:
                chunk = r.raw.read1(64 * 1024, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as e:
                raise requests.Timeout(str(e)) from e
            except urllib3.exceptions.HTTPError as e:
                raise requests.ConnectionError(str(e)) from e
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise ProviderError(f"{host} sent a response larger than {self.max_bytes} bytes.", status=r.status_code)
            if time.monotonic() > give_up_at:
                raise Unreachable(f"{host} took too long to send its answer.")
            chunks.append(chunk)


_local = threading.local()


def default_http() -> Http:
    """One Http (and connection pool) per thread: requests.Session is not thread-safe."""
    http = getattr(_local, "http", None)
    if http is None:
        http = _local.http = Http()
    return http
