"""A provider that stopped answering, or answers slowly: its other keys wait for the next run.

A hanging, trickling or unreachable provider costs each key that asks it a full timeout
(up to the HTTP deadline), so a sync pass over many keys of one provider would pay that
once per key. After one key's sync missed the deadline or could not connect, the provider
counts as down until the next dispatch (a minute); meanwhile its keys are skipped without
a failure of their own, and stay due. `manage.py sync` also remembers it for the rest of
its pass, however long that pass takes (PassBudget), and gives each provider a share of
the pass: a provider that answers, but slowly, uses its share, and the keys it did not
reach wait for the next run (a key stopped by it resumes where it stopped).
"""

from collections import defaultdict

from django.conf import settings
from django.core.cache import cache

from providers.http import ProviderError, Unreachable
from providers.registry import PROVIDERS

# One dispatch interval (history/migrations/0003_dispatch_schedule.py: every minute).
DOWN_FOR = 60


def _key(provider: str) -> str:
    return f"genboard:provider-down:{provider}"


def is_outage(error: ProviderError) -> bool:
    """No answer in time or no connection: the provider's trouble, not the key's."""
    return isinstance(error, Unreachable)


def mark_down(provider: str, error: ProviderError) -> None:
    cache.set(_key(provider), error.message[:300], DOWN_FOR)


def down(provider: str) -> str:
    """Why the provider counts as down now ("" when it does not)."""
    return cache.get(_key(provider), "")


def waiting_message(provider: str, why: str) -> str:
    name = PROVIDERS[provider].name
    return f"{name} did not answer just now ({why}): this key waits for the next run."


def pass_budget() -> float:
    """Seconds one `manage.py sync` pass may spend on one provider's keys."""
    return float(getattr(settings, "GENBOARD_PROVIDER_PASS_BUDGET", 60))


class PassBudget:
    """What one pass has spent on each provider, and which providers went down in it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.spent: dict[str, float] = defaultdict(float)
        self.down: dict[str, str] = {}

    def remaining(self, provider: str) -> float:
        return self.seconds - self.spent[provider]

    def waiting(self, provider: str) -> str:
        """Why this provider's next key waits for the next run ("" when it does not)."""
        if provider in self.down:
            return waiting_message(provider, self.down[provider])
        if self.remaining(provider) <= 0:
            name = PROVIDERS[provider].name
            return f"{name} used this pass's {self.seconds:g} s: this key waits for the next run."
        return ""

    def spend(self, provider: str, seconds: float, down: str = "") -> None:
        self.spent[provider] += seconds
        if down:
            self.down[provider] = down
