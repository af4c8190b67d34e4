"""Balances: what each key has left at its provider (API Mall and Apikley credits, the AudioPod
wallet in dollars and what it has spent), refreshed by the sync at most every few minutes, and
the owner's low-balance warning.

Adapters read their provider's balance call into a `Balance` (`Provider.balance()`); this
module decides when to ask and keeps the answer on the key. It imports no models: the
adapters import it, and the models import the adapters.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from .http import OutOfCredits, ProviderError

logger = logging.getLogger(__name__)

CREDITS, USD = "credits", "USD"


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    unit: str  # CREDITS or USD
    # What the account has spent so far, where the provider says (AudioPod's wallet).
    spent: Decimal | None = None


def refresh_every() -> timedelta:
    return timedelta(seconds=settings.BALANCE_REFRESH_SECONDS)


def due(credential, now=None) -> bool:
    now = now or timezone.now()
    return credential.balance_checked is None or now - credential.balance_checked >= refresh_every()


def refresh(credential, provider) -> bool:
    """Ask the provider for the key's balance if the last answer is older than a few minutes,
    and keep it. True when a request was made. A provider that cannot answer
    now leaves the last known balance; a refused or empty key raises as in any other call."""
    now = timezone.now()
    if not due(credential, now):
        return False
    try:
        balance = provider.balance()
    except ProviderError as e:
        if e.permanent or isinstance(e, OutOfCredits):
            raise  # the sync records a refused or empty key as it would from any call
        logger.info("Balance of key %s not read: %s", credential.pk, e.message)
        # Ask again after the usual wait, not on every run while the provider struggles.
        type(credential).objects.filter(pk=credential.pk).update(balance_checked=now)
        return True
    values = {"balance_checked": now}
    if balance is not None:
        values |= {"balance_amount": balance.amount, "balance_unit": balance.unit, "balance_spent": balance.spent}
    type(credential).objects.filter(pk=credential.pk).update(**values)
    for name, value in values.items():
        setattr(credential, name, value)
    return True


def is_low(credential) -> bool:
    """Below the owner's threshold (none set: never)."""
    below = credential.low_balance_below
    return below is not None and credential.balance_amount is not None and credential.balance_amount < below


def text(amount: Decimal | None, unit: str) -> str:
    """ "$25.00", "1,250 credits", "12.5 credits"; "" when unknown."""
    if amount is None:
        return ""
    if unit == USD:
        return f"${amount:,.2f}" if amount >= 0 else f"−${-amount:,.2f}"
    number = amount.normalize()
    shown = f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,.2f}".rstrip("0")
    return f"{shown} credits"


def decimal(value) -> Decimal | None:
    """A JSON number or numeric string as a Decimal (4 places); None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = Decimal(str(value).strip().lstrip("$").replace(",", ""))
    except ArithmeticError:
        return None
    if not result.is_finite() or abs(result) >= 10**10:
        return None
    return result.quantize(Decimal("0.0001"))
