import pytest

from providers.models import Credential
from tests.factories import make_credential

SECRET = "sk-view-canary-1a2b3c4d9z8y"


@pytest.fixture
def credential(alice):
    return make_credential(alice, provider="audiopod", label="Studio", secret=SECRET)


def key_urls(credential):
    return [
        "/keys/",
        "/keys/new/",
        f"/keys/{credential.code}/",
        f"/keys/{credential.code}/delete/",
    ]


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(client, credential):
    for url in [*key_urls(credential), f"/keys/{credential.code}/check/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login/"), url


@pytest.mark.django_db
def test_owner_sees_every_key_page_uncached(alice_client, credential):
    for url in key_urls(credential):
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url


@pytest.mark.django_db
def test_everyone_else_gets_404(client, bob, credential, unreachable_providers):
    client.force_login(bob)
    for url in key_urls(credential)[2:]:
        assert client.get(url).status_code == 404, url
    for url, data in [
        (f"/keys/{credential.code}/", {"label": "mine now"}),
        (f"/keys/{credential.code}/check/", {}),
        (f"/keys/{credential.code}/delete/", {}),
    ]:
        assert client.post(url, data).status_code == 404, url
    assert str(credential.code) not in client.get("/keys/").text
    credential.refresh_from_db()
    assert credential.label == "Studio"


@pytest.mark.django_db
def test_adding_a_key_saves_it_even_when_the_provider_cannot_be_reached(alice_client, alice, unreachable_providers):
    response = alice_client.post("/keys/new/", {"provider": "apimall", "label": "Main", "secret": SECRET})
    credential = Credential.objects.get(owner=alice)
    assert response.status_code == 302 and response.headers["Location"] == f"/keys/{credential.code}/"
    assert credential.status == Credential.Status.UNCHECKED
    assert "Could not connect to 127.0.0.1:9" in credential.last_error
    assert credential.last4 == SECRET[-4:] and credential.checked is not None
    page = alice_client.get(response.headers["Location"])
    assert "could not be asked" in page.text and "…" + SECRET[-4:] in page.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"provider": "", "label": "x", "secret": SECRET}, "provider", "This field is required"),
        ({"provider": "openai", "label": "x", "secret": SECRET}, "provider", "Select a valid choice"),
        ({"provider": "apimall", "label": "", "secret": SECRET}, "label", "This field is required"),
        ({"provider": "apimall", "label": "x", "secret": "short"}, "secret", "at least 8 characters"),
        ({"provider": "apimall", "label": "x", "secret": "two words here"}, "secret", "spaces or line breaks"),
        ({"provider": "apimall", "label": "x", "secret": "a" * 501}, "secret", "at most 500 characters"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(alice_client, data, field, message):
    response = alice_client.post("/keys/new/", data)
    assert response.status_code == 200
    assert message in response.text
    assert f'id="id_{field}_error"' in response.text
    assert Credential.objects.count() == 0
    assert SECRET not in response.text  # the typed secret is not sent back, even on errors


@pytest.mark.django_db
def test_labels_are_unique_per_person(alice_client, credential, bob, unreachable_providers):
    response = alice_client.post("/keys/new/", {"provider": "apimall", "label": "studio", "secret": "abcdefgh1"})
    assert "already have a key with this label" in response.text
    make_credential(bob, label="Studio")  # someone else's label is no obstacle
    assert Credential.objects.filter(label__iexact="studio").count() == 2


@pytest.mark.django_db
def test_rename(alice_client, credential):
    response = alice_client.post(f"/keys/{credential.code}/", {"label": "Renamed"})
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.label == "Renamed"
    response = alice_client.post(f"/keys/{credential.code}/", {"label": ""})
    assert response.status_code == 400 and "This field is required" in response.text


@pytest.mark.django_db
def test_replacing_the_secret_resets_status_and_last4(alice_client, credential, unreachable_providers):
    Credential.objects.filter(pk=credential.pk).update(status="rejected", last_error="Unauthorized")
    # The provider cannot be asked: saved only with "replace anyway" (tests/test_replace_key.py).
    response = alice_client.post(f"/keys/{credential.code}/", {"secret": "ap_new_secret_WXYZ", "anyway": "on"})
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.secret.reveal() == "ap_new_secret_WXYZ"
    assert credential.last4 == "WXYZ" and credential.status == Credential.Status.UNCHECKED


@pytest.mark.django_db
def test_delete_asks_first(alice_client, credential):
    page = alice_client.get(f"/keys/{credential.code}/delete/")
    assert "Delete key and its history" in page.text
    assert Credential.objects.filter(pk=credential.pk).exists()
    response = alice_client.post(f"/keys/{credential.code}/delete/")
    assert response.status_code == 302 and response.headers["Location"] == "/keys/"
    assert not Credential.objects.filter(pk=credential.pk).exists()


@pytest.mark.django_db
def test_secret_never_appears_in_any_response(alice_client, credential, unreachable_providers):
    pages = [alice_client.get(url) for url in key_urls(credential)]
    pages.append(alice_client.post(f"/keys/{credential.code}/check/", follow=True))
    pages.append(alice_client.post(f"/keys/{credential.code}/", {"secret": "x"}))
    for response in pages:
        assert SECRET not in response.content.decode()
    assert "…" + SECRET[-4:] in pages[0].text + pages[2].text  # only the last four are shown


@pytest.mark.django_db
def test_empty_state_says_how_to_start(alice_client):
    assert "Add your first key" in alice_client.get("/keys/").text
