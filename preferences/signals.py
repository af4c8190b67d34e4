"""A person's choice clears the copy of their preferences that the history reads from the
cache (HistoryPreferences.for_request): at once, and again once the choice is committed (a
page read in between could have cached the old choice again)."""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import HistoryPreferences, cache_key


@receiver([post_save, post_delete], sender=HistoryPreferences, dispatch_uid="preferences-forget-cached")
def forget_cached(sender, instance: HistoryPreferences, **kwargs) -> None:
    key = cache_key(instance.user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
