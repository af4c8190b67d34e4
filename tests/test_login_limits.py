"""Log-in limits behind proxies, per account whatever name is typed, and for the admin too."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts"


def fail(client, login: str, *, via: str = "") -> str:
    headers = {"X-Forwarded-For": via} if via else {}
    return client.post("/accounts/login/", {"login": login, "password": "wrong"}, headers=headers).text


def log_in(client, login: str, password: str = "alice-pass-2026", *, via: str = "") -> int:  # noqa: S107
    headers = {"X-Forwarded-For": via} if via else {}
    return client.post("/accounts/login/", {"login": login, "password": password}, headers=headers).status_code


def test_the_environment_names_the_trusted_proxies():
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "sqlite:///:memory:"}
    root = Path(__file__).resolve().parent.parent
    for value, expected in (("2", "2"), ("", "0")):
        result = subprocess.run(  # noqa: S603 (our own settings, fixed arguments)
            [sys.executable, "-c", code],
            cwd=root,
            env={**env, "TRUSTED_PROXY_COUNT": value},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.strip() == expected, result.stderr


def test_behind_a_proxy_one_client_cannot_lock_out_everyone(client, settings, alice, bob):
    settings.TRUSTED_PROXY_COUNT = "1"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    # Every request reaches us from the proxy (REMOTE_ADDR 127.0.0.1); the client is in XFF.
    for n in range(12):
        fail(client, f"nobody-{n}", via="203.0.113.7")
    assert TOO_MANY in fail(client, "nobody-x", via="203.0.113.7")
    assert log_in(client, "bob", "bob-pass-2026", via="198.51.100.9") == 302


def test_a_spoofed_forwarded_for_does_not_reset_the_count(client, settings):
    settings.TRUSTED_PROXY_COUNT = "1"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    for n in range(11):
        # The client prepends a new fake address each time; the proxy appends the real one.
        fail(client, f"nobody-{n}", via=f"10.0.0.{n}, 203.0.113.7")
    assert TOO_MANY in fail(client, "nobody-x", via="10.9.9.9, 203.0.113.7")


def test_without_trusted_proxies_forwarded_for_is_ignored(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    for n in range(11):
        fail(client, f"nobody-{n}", via=f"198.51.100.{n}")  # rotating it changes nothing
    assert TOO_MANY in fail(client, "nobody-x", via="198.51.100.200")


def test_the_lock_out_counts_the_account_whatever_name_was_typed(client, alice):
    names = ["alice", "ALICE", "alice@example.test", "Alice@Example.TEST", "aLiCe"]
    for name in names:
        fail(client, name)
    assert TOO_MANY in fail(client, "alice@EXAMPLE.test")
    assert log_in(client, "alice") != 302  # locked: even the right password waits


def test_a_misconfigured_proxy_count_stops_the_start(settings):
    settings.TRUSTED_PROXY_COUNT = "two"
    assert "genboard.E005" in {e.id for e in run_checks()}


def test_the_admin_log_in_goes_through_the_same_log_in(client, admin_user):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    # Posting a password to the admin's form logs no one in and counts nothing there.
    posted = client.post("/admin/login/", {"username": "admin", "password": "password"})
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert client.get("/admin/").status_code == 302
    # The lock-out that holds on the site holds for the admin too.
    for _ in range(5):
        fail(client, "admin")
    assert log_in(client, "admin", "password") != 302
    assert client.get("/admin/").status_code == 302


def test_staff_reach_the_admin_after_logging_in(client, admin_user):
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": "admin", "password": "password", "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
