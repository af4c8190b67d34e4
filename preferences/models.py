"""What each person chose about how their history looks: kept on the server, so it follows
them from one browser to the next."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import models


class HistoryPreferences(models.Model):
    """One per person, made on their first choice; until then the defaults apply."""

    class Layout(models.TextChoices):
        CARDS = "cards", "Cards"
        TABLE = "table", "Table"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="history_preferences")
    layout = models.CharField(max_length=10, choices=Layout, default=Layout.CARDS)
    # The table layout's columns, by id, in the order shown; empty means the default set.
    columns = models.JSONField(default=list, blank=True)
    # The 30-day strip above the history, folded away.
    strip_folded = models.BooleanField(default=False)
    # A digest of the key warnings and sync results the person dismissed: the summary line
    # stays hidden while they are the same, and shows again when something changes.
    dismissed_notices = models.CharField(max_length=64, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "history preferences"

    def __str__(self) -> str:
        return f"{self.user} ({self.get_layout_display()})"

    @classmethod
    def for_user(cls, user) -> "HistoryPreferences":
        """The person's preferences, or unsaved defaults when they never chose anything (the
        history reads them on every full page: no row is written just for looking)."""
        if not user.is_authenticated:
            return cls()
        return cls.objects.filter(user=user).first() or cls(user=user)

    @classmethod
    def for_request(cls, request) -> "HistoryPreferences":
        """The person's preferences to show the history by, read once per request (the layout,
        the strip and the summary line of one history page all ask) from the cache: every
        history request reads them, and a cache read is a third of a query's CPU with Redis.
        A choice clears the cached copy (preferences.signals) and the cache keeps it a few
        minutes at most. Not to be saved: a choice reads for_user() and saves that."""
        if not hasattr(request, "_history_preferences"):
            request._history_preferences = cls._cached_for(request.user)
        return request._history_preferences

    @classmethod
    def _cached_for(cls, user) -> "HistoryPreferences":
        if not user.is_authenticated:
            return cls()
        key = cache_key(user.pk)
        fields = cache.get(key)
        if fields is None:
            found = cls.for_user(user)
            # The values, not the instance: a pickled instance would carry its user along.
            fields = {field.attname: getattr(found, field.attname) for field in cls._meta.concrete_fields}
            cache.set(key, fields, CACHE_SECONDS)
        return cls(**fields)


CACHE_SECONDS = 300


def cache_key(user_id: int) -> str:
    """Named with the model's columns: a copy cached before a column was added or dropped is
    never read as one of the new shape."""
    return f"history-preferences:{_SHAPE}:{user_id}"


_SHAPE = hashlib.blake2b(
    ",".join(field.attname for field in HistoryPreferences._meta.concrete_fields).encode(), digest_size=4
).hexdigest()
