"""Encryption of provider secrets at rest, with cryptography's MultiFernet.

CREDENTIAL_ENCRYPTION_KEYS holds comma-separated Fernet keys: the first encrypts, all
decrypt, so a new key is rolled in by putting it first and running `manage.py rotate_keys`.
A stored value is "<key id>$<Fernet token>": the id (the first 8 hex digits of the key's
SHA-256) records which key made it, so rotation knows which rows are still on an old key
and an operator can tell which key a row needs. It is not secret.

Without the variable, development (DEBUG on) uses a key generated once and kept in
var/dev-credential-key; production refuses to start (core/checks.py).
"""

import hashlib
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEPARATOR = "$"


class SecretUnavailable(Exception):
    """A stored secret cannot be decrypted with the configured keys (lost or wrong key)."""


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _dev_key() -> str:
    path = settings.VAR_DIR / "dev-credential-key"
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: when the web server and a worker start together, one of them writes it.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(Fernet.generate_key().decode())
    return path.read_text().strip()


def configured_keys() -> tuple[str, ...]:
    keys = tuple(settings.CREDENTIAL_ENCRYPTION_KEYS)
    if keys:
        return keys
    if settings.DEBUG:
        return (_dev_key(),)
    raise ImproperlyConfigured("CREDENTIAL_ENCRYPTION_KEYS is not set.")


@lru_cache(maxsize=4)
def _keyring(keys: tuple[str, ...]) -> tuple[str, MultiFernet]:
    try:
        fernet = MultiFernet([Fernet(k) for k in keys])
    except ValueError as e:
        raise ImproperlyConfigured(
            "CREDENTIAL_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from e
    return key_id(keys[0]), fernet


def keyring() -> tuple[str, MultiFernet]:
    """(id of the key that encrypts, MultiFernet over all configured keys)."""
    return _keyring(configured_keys())


def encrypt(plaintext: str) -> str:
    primary, fernet = keyring()
    return primary + SEPARATOR + fernet.encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    _, fernet = keyring()
    try:
        return fernet.decrypt(stored.partition(SEPARATOR)[2].encode()).decode()
    except (InvalidToken, UnicodeError) as e:
        raise SecretUnavailable(f"encrypted with key {stored_key_id(stored)}, which is not configured") from e


def stored_key_id(stored: str) -> str:
    return stored.partition(SEPARATOR)[0]


def rotate(stored: str) -> str:
    """The same secret, encrypted under the first configured key."""
    primary, fernet = keyring()
    try:
        token = fernet.rotate(stored.partition(SEPARATOR)[2].encode())
    except InvalidToken as e:
        raise SecretUnavailable(f"encrypted with key {stored_key_id(stored)}, which is not configured") from e
    return primary + SEPARATOR + token.decode()
