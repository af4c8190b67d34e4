"""A cap on wrong tokens per client address: a token has 256 bits, so guessing is hopeless,
but a client that keeps missing is turned away before it costs a lookup.

Written out rather than taken from a library: allauth's limiter is internal to allauth, and a
fixed window counted in the shared cache (the hooks receiver's pattern) is all this needs.
Legitimate visitors never miss; the client's address is allauth's reading of it (it honours
TRUSTED_PROXY_COUNT like the log-in limits)."""

from allauth.account.adapter import get_adapter
from django.core.cache import cache

MISSES = 30
WINDOW = 600  # seconds


def _key(request) -> str:
    return f"public_links:misses:{get_adapter().get_client_ip(request)}"


def blocked(request) -> bool:
    return (cache.get(_key(request)) or 0) >= MISSES


def missed(request) -> None:
    key = _key(request)
    cache.add(key, 0, timeout=WINDOW)
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW)
