"""The timestamp spellings the providers use (epoch seconds in, strings out)."""

import time


def iso_ms_z(t: float) -> str:
    """2026-03-12T09:40:00.000Z (API Mall, Munsit)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def iso_us(t: float, *, z: bool = True) -> str:
    """2026-03-12T09:40:00.123456Z, pydantic's spelling (AudioPod); without Z when naive."""
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
        + f".{int(t * 1_000_000) % 1_000_000:06d}"
        + ("Z" if z else "")
    )


def iso_naive(t: float) -> str:
    """2026-03-12T09:40:00, no zone: the oddity some records carry."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def space_naive(t: float) -> str:
    """2026-03-12 09:40:00, as in Apikley's createTime (UTC, no zone)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
