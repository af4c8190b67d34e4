"""What the providers' webhook readers share (hooks/ receives the calls).

Each provider that calls back has a reader in its adapter file (apikley.read_callback,
audiopod.read_webhook) that checks a call's signature and says what it is about, as a
`Callback`; a call that must change nothing raises `Rejected` with a reason the key's page
shows. Readers see the raw body bytes: signatures are over what was sent, not over a parsed
and re-serialized copy.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any


class Rejected(Exception):
    """A call that changes nothing: unsigned where a signature is due, badly signed, stale,
    or unreadable. The message is shown to the key's owner (never with a secret in it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Callback:
    # Unique per delivery of one event: a second call with the same id is a duplicate.
    event_id: str
    # The provider's word for what happened (`complete`, `job.failed`, `webhook.test`…).
    kind: str
    # The job it is about; "" for events about no job (a test event).
    external_id: str
    # Whether a signature covered external_id. Unsigned calls may only refresh what the
    # provider itself confirms; they never create a job.
    signed: bool
    # The parsed body, stored with the event for the record (never trusted beyond the above).
    body: dict[str, Any]


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise Rejected("The body is not JSON.") from e
    if not isinstance(parsed, dict):
        raise Rejected("The body is not a JSON object.")
    return parsed


def fresh_timestamp(value: str | None, now: float, tolerance: int, header: str) -> int:
    """The signed timestamp as Unix seconds, refused when missing, garbled or stale."""
    if not value:
        raise Rejected(f"No {header} header.")
    try:
        stamp = int(value.strip())
    except ValueError as e:
        raise Rejected(f"{header} is not a Unix timestamp.") from e
    if abs(now - stamp) > tolerance:
        raise Rejected(f"Stale timestamp ({header} is {int(now - stamp)} s from now).")
    return stamp


def hmac_sha256(key: str, message: bytes) -> bytes:
    return hmac.new(key.encode(), message, hashlib.sha256).digest()


def base64_hmac(key: str, message: bytes) -> str:
    return base64.b64encode(hmac_sha256(key, message)).decode()


def same(expected: str, received: str) -> bool:
    """Constant-time comparison, so timing does not reveal how much of a guess was right."""
    return hmac.compare_digest(expected.encode(), received.strip().encode())


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]
