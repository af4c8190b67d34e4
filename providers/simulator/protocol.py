"""What the HTTP server hands to the provider modules, and what they hand back."""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .world import World


@dataclass
class Request:
    world: World
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    base_url: str  # where media links point: the simulator's own origin
    params: dict[str, str] = field(default_factory=dict)  # from the route template

    def arg(self, name: str) -> str | None:
        """The first value of a query parameter, None when absent."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        """The JSON body; raises ValueError when it is not JSON."""
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # Streamed replies (SSE): called with a write function; the connection closes after it.
    stream: Callable[[Callable[[bytes], None]], None] | None = None
    code: int | None = None  # Apikley's in-body status, for the request log
    drip: float = 0.0  # seconds between 16-byte pieces of the body (the `drip` fault)


def json_reply(data: Any, status: int = 200, *, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    code = data.get("code") if isinstance(data, dict) and isinstance(data.get("code"), int) else None
    return Reply(status=status, body=body, headers=headers or {}, code=code)


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    provider: str  # "apimall" … or "sim" for the simulator's own endpoints
    method: str
    template: str  # "/api/v1/music/jobs/{id}/status"
    handler: Handler

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.template}"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """`{name}` matches one path segment; `{path}` the rest of the path."""
        parts = re.split(r"\{(\w+)\}", self.template)
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>{'.+' if part == 'path' else '[^/]+'})"
            for i, part in enumerate(parts)
        )
        return re.compile(regex)


def int_arg(value: str | None, default: int | None) -> int | None:
    """A query integer: the default when absent; raises ValueError when not an integer."""
    if value is None:
        return default
    return int(value.strip())


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, token = (headers.get("Authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
