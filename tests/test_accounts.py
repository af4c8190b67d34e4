import pytest
from django.core import mail


@pytest.mark.django_db
def test_sign_up_then_use_the_site(client):
    page = client.get("/accounts/signup/")
    assert page.status_code == 200 and 'name="username"' in page.text and 'name="email"' in page.text
    response = client.post(
        "/accounts/signup/",
        {
            "username": "dora",
            "email": "dora@example.test",
            "password1": "a-Long-pass-2026",
            "password2": "a-Long-pass-2026",
        },
    )
    assert response.status_code == 302
    assert client.get("/keys/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("login", ["alice", "alice@example.test"])
def test_log_in_by_username_or_email(client, alice, login):
    response = client.post("/accounts/login/", {"login": login, "password": "alice-pass-2026"})
    assert response.status_code == 302 and response.headers["Location"] == "/history/"


@pytest.mark.django_db
def test_log_out_is_a_post(alice_client):
    alice_client.get("/accounts/logout/")
    assert alice_client.get("/keys/").status_code == 200  # GET only asks
    alice_client.post("/accounts/logout/")
    assert alice_client.get("/keys/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("login", ["alice", "nobody-by-this-name"])
def test_repeated_failed_log_ins_lock_the_name_out_the_same_way(client, alice, login):
    answers = [client.post("/accounts/login/", {"login": login, "password": "wrong"}) for _ in range(6)]
    assert all(a.status_code == 200 for a in answers)
    assert "Too many failed login attempts" in answers[-1].text
    # Even the right password is refused while locked out.
    if login == "alice":
        response = client.post("/accounts/login/", {"login": "alice", "password": "alice-pass-2026"})
        assert response.status_code != 302


@pytest.mark.django_db
def test_password_reset_sends_mail(client, alice):
    client.post("/accounts/password/reset/", {"email": "alice@example.test"})
    assert len(mail.outbox) == 1 and "alice" in mail.outbox[0].body


@pytest.mark.django_db
def test_security_headers_on_every_page(client):
    response = client.get("/accounts/login/")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("script-src 'self' 'nonce-", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.text  # our scripts carry it


@pytest.mark.django_db
def test_https_behind_the_proxy_counts_as_secure(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/accounts/login/").status_code == 301
    assert client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
