"""Errors to Sentry when SENTRY_DSN is set, with nothing secret in them.

sentry-sdk is told to send no personal data, no local variables (a frame in an adapter holds
the decrypted key) and no request bodies; before_send() then keeps only the method and path
of the request (a query string may hold anything a user typed; headers carry cookies and
tokens) and masks any value whose name says it is secret, wherever it sits in the event.
"""

import re
from typing import Any

import sentry_sdk

FILTERED = "[Filtered]"
SECRET_NAME = re.compile(
    r"secret|passw|token|auth|api[-_]?key|encrypt|private|cookie|session|csrf|signature|fernet|dsn", re.I
)


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            name: FILTERED if isinstance(name, str) and SECRET_NAME.search(name) else _scrub(item)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def before_send(event: dict, hint: dict) -> dict:
    request = event.get("request")
    if request:
        event["request"] = {"method": request.get("method"), "url": (request.get("url") or "").split("?")[0]}
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        crumb.pop("data", None)  # HTTP breadcrumbs carry full URLs
    return _scrub(event)


def init(dsn: str, environment: str = "production") -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        before_send_transaction=before_send,
    )
