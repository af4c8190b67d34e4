"""Log-in limits that count people, not the names they type.

allauth counts failed log-ins per client address (its TRUSTED_PROXY_COUNT reads the address
from X-Forwarded-For behind our proxies: config/settings.py) and per "key", which it takes
to be the login as typed, lowercased. A person has two names (username and e-mail), so an
attacker would get two allowances per account, and more with every alias of the e-mail.
Here the key is the account, whichever name, in whatever case, was typed; a name that
matches no account keeps allauth's own key, so both are refused alike.
"""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import filter_users_by_email, filter_users_by_username
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest


def account_for(credentials: dict[str, Any]):
    """The one account these credentials name, or None."""
    email = credentials.get("email")
    if email:
        users = filter_users_by_email(email)
        if len(users) == 1:
            return users[0]
    username = credentials.get("username")
    if username:
        users = list(filter_users_by_username(username)[:2])
        if len(users) == 1:
            return users[0]
    return None


class AccountAdapter(DefaultAccountAdapter):
    # allauth builds the per-account lock-out key here, and only here (pre_authenticate, and
    # the reset after a password change): overriding it keeps allauth's own counting.
    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        user = account_for(credentials)
        if user is None:
            return super()._get_login_attempts_cache_key(request, **credentials)
        return f"{get_current_site(request).domain}:account:{user.pk}"
