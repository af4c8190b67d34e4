import pytest
from cryptography.fernet import Fernet

pytest_plugins = ["tests.fixtures_simulator"]

TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CREDENTIAL_ENCRYPTION_KEYS = [TEST_ENCRYPTION_KEY]
    settings.VAR_DIR = tmp_path
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
