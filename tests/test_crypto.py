import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from providers import crypto
from providers.fields import Sealed
from providers.models import Credential
from tests.factories import make_credential

CANARY = "sk-canary-7f3e9a1b2c4d5e6f"


def all_database_text() -> str:
    """Every row of every table, as text: what someone with the database would see."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        tables = [row[0] for row in cursor.fetchall()]
        chunks = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (table names from the catalog)
            chunks.extend(row[0] for row in cursor.fetchall())
    return "\n".join(chunks)


def test_round_trip_and_key_id():
    stored = crypto.encrypt("hello-secret")
    assert stored.startswith(crypto.keyring()[0] + "$")
    assert "hello-secret" not in stored
    assert crypto.decrypt(stored) == "hello-secret"


def test_sealed_never_prints_the_secret(db, alice):
    credential = make_credential(alice, secret=CANARY)
    credential.refresh_from_db()
    assert isinstance(credential.secret, Sealed)
    assert CANARY not in repr(credential.secret) + str(credential.secret) + str(credential)
    assert credential.secret.reveal() == CANARY
    assert credential.last4 == CANARY[-4:]


@pytest.mark.django_db(transaction=True)
def test_canary_secret_is_absent_from_the_database(alice):
    make_credential(alice, secret=CANARY)
    text = all_database_text()
    assert "…" not in CANARY and CANARY[-4:] in text  # the dump really holds our rows
    assert CANARY not in text


def test_rotation_keeps_old_rows_readable_and_moves_them_to_the_new_key(db, alice, settings):
    old_key, new_key = settings.CREDENTIAL_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    credential = make_credential(alice, secret=CANARY)
    assert credential.secret.key_id == crypto.key_id(old_key)

    settings.CREDENTIAL_ENCRYPTION_KEYS = [new_key, old_key]
    credential.refresh_from_db()
    assert credential.secret.reveal() == CANARY  # still readable before rotation
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "Re-encrypted 1 secret(s)" in out.getvalue()

    settings.CREDENTIAL_ENCRYPTION_KEYS = [new_key]
    credential.refresh_from_db()
    assert credential.secret.key_id == crypto.key_id(new_key)
    assert credential.secret.reveal() == CANARY
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "Re-encrypted 0 secret(s)" in out.getvalue() and "1 already used it" in out.getvalue()


def test_lost_key_marks_reenter_instead_of_crashing(db, alice, settings, alice_client):
    credential = make_credential(alice, secret=CANARY)
    settings.CREDENTIAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    credential.refresh_from_db()
    with pytest.raises(crypto.SecretUnavailable):
        credential.secret.reveal()
    err = io.StringIO()
    call_command("rotate_keys", stdout=io.StringIO(), stderr=err)
    assert "marked re-enter" in err.getvalue()
    credential.refresh_from_db()
    assert credential.status == Credential.Status.REENTER

    # Pages listing and showing the key still work, and say what to do.
    assert alice_client.get("/keys/").status_code == 200
    page = alice_client.get(credential.get_absolute_url())
    assert page.status_code == 200 and "Re-enter" in page.text
    alice_client.post(f"/keys/{credential.code}/check/")
    credential.refresh_from_db()
    assert credential.status == Credential.Status.REENTER


def test_wrong_value_in_the_key_setting_is_a_clear_error(settings):
    settings.CREDENTIAL_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(Exception, match="not a Fernet key"):
        crypto.encrypt("x")


def test_dev_key_is_made_once_and_kept(settings, tmp_path):
    settings.CREDENTIAL_ENCRYPTION_KEYS = []
    settings.DEBUG = True
    stored = crypto.encrypt("dev secret")
    key_file = tmp_path / "dev-credential-key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert crypto.decrypt(stored) == "dev secret"


def test_production_without_keys_cannot_encrypt(settings):
    settings.CREDENTIAL_ENCRYPTION_KEYS = []
    settings.DEBUG = False
    with pytest.raises(Exception, match="CREDENTIAL_ENCRYPTION_KEYS"):
        crypto.encrypt("x")
