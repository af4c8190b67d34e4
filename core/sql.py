"""For the few statements written in SQL (each says why it is not a queryset)."""


def placeholders(count: int) -> str:
    """`count` parameter slots, comma-separated, for an IN (…) or a VALUES (…): every value is
    passed as a parameter, never written into the statement."""
    return ", ".join(["%s"] * count)
