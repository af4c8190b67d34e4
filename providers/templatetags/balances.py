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


@register.inclusion_tag("providers/balances_strip.html", takes_context=True)
def key_balances(context) -> dict:
    """The history's dashboard strip: the viewer's own keys that have a balance (a team
    member's balance is theirs, not shown to the team)."""
    user = context["request"].user
    keys = Credential.objects.owned_by(user).filter(balance_amount__isnull=False)
    return {
        "keys": list(
            keys.only(
                "code",
                "label",
                "provider",
                "balance_amount",
                "balance_unit",
                "balance_spent",
                "balance_checked",
                "low_balance_below",
            )
        )
    }
