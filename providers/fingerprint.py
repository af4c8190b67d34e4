"""Fingerprints of provider secrets: how Genboard tells that two keys hold the same secret
without comparing, or keeping, the secret itself.

A fingerprint is HMAC-SHA256 of the secret under a key derived from SECRET_KEY (Django's
salted_hmac, with a salt of its own, so the value is good for nothing else). It is not keyed
by CREDENTIAL_ENCRYPTION_KEYS on purpose: those are rotated (`manage.py rotate_keys`), and a
fingerprint must stay the same across a rotation, or a second copy of a key would slip in
after one. An operator who replaces SECRET_KEY itself runs `manage.py rotate_keys` once: it
recomputes every fingerprint it can decrypt.

A plain hash would do for telling keys apart, but anyone holding a database dump could then
test guessed keys against it offline; the server-side key stops that.
"""

from django.utils.crypto import salted_hmac

SALT = "genboard.providers.fingerprint"


def fingerprint(secret: str) -> str:
    """64 hex digits, the same for the same secret as long as SECRET_KEY stays."""
    return salted_hmac(SALT, secret, algorithm="sha256").hexdigest()
