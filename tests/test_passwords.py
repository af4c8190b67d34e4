"""Genboard hashes passwords with Argon2; older hashes are upgraded at the next log-in."""

import pytest
from django.contrib.auth.hashers import make_password

from config import settings as genboard_settings


@pytest.mark.django_db
def test_a_pbkdf2_hash_becomes_argon2_at_the_next_log_in(client, settings, django_user_model):
    settings.PASSWORD_HASHERS = genboard_settings.PASSWORD_HASHERS  # the tests' fast MD5 set aside
    old = make_password("old-pass-2026", hasher="pbkdf2_sha256")
    django_user_model.objects.create(username="dora", email="dora@example.test", password=old)

    response = client.post("/accounts/login/", {"login": "dora", "password": "old-pass-2026"})

    assert response.status_code == 302
    stored = django_user_model.objects.get(username="dora").password
    assert stored.startswith("argon2$")
    assert client.get("/history/").status_code == 200


@pytest.mark.django_db
def test_new_passwords_are_hashed_with_argon2(settings):
    settings.PASSWORD_HASHERS = genboard_settings.PASSWORD_HASHERS
    assert make_password("new-pass-2026").startswith("argon2$")
