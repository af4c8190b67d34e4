from django import template

from providers import balances
from providers.models import Credential

register = template.Library()


@register.filter
def balance_text(credential: Credential) -> str:
    """The key's balance as people read it ("$25.00", "1,250 credits"); "" when unknown."""
    return balances.text(credential.balance_amount, credential.balance_unit)


@register.filter
def spent_text(credential: Credential) -> str:
    return balances.text(credential.balance_spent, credential.balance_unit)


@register.filter
def threshold_text(credential: Credential) -> str:
    return balances.text(credential.low_balance_below, credential.balance_unit or balances.CREDITS)


@register.filter
def low_balance(credential: Credential) -> bool:
    return balances.is_low(credential)
