"""Structured log lines: one per request and one per sync run, as `key=value` pairs (logfmt),
which log shippers (journald, Loki, Datadog…) split into fields without a custom parser.

Only ids, counts, paths and durations go in: never a secret, a query string (a filter may
hold anything a user typed) or a cookie.
"""

import logging
import time

request_logger = logging.getLogger("genboard.request")


def _value(value) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' "=\\'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def line(event: str, **fields) -> str:
    return " ".join([f"event={_value(event)}", *(f"{name}={_value(value)}" for name, value in fields.items())])


def event(logger: logging.Logger, name: str, **fields) -> None:
    logger.info(line(name, **fields))


class RequestLogMiddleware:
    """One line per request: method, path (without its query), status, user id, duration."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        began = time.monotonic()
        response = self.get_response(request)
        if request.path == "/healthz":
            return response  # probed every few seconds: its failures are logged by core.health
        user = getattr(request, "user", None)
        event(
            request_logger,
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            user=user.pk if user is not None and user.is_authenticated else "-",
            htmx=int(bool(request.headers.get("HX-Request"))),
            duration_ms=round((time.monotonic() - began) * 1000, 1),
        )
        return response
