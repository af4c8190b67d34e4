import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.cache import cache, caches

pytest_plugins = ["tests.fixtures_simulator", "tests.media_host"]

TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """After pytest-django's order (database tests, then transactional ones, then the rest),
    the tests that use no test database go first: among them are the few that drive whole
    processes (a worker cluster, bin/serve, bin/start: 20–40 s each), which otherwise started
    last and ran on alone while every other xdist worker had finished. They touch no test
    database, so running them first changes nothing for the tests that do."""
    uses_db = {"db", "transactional_db", "live_server", "django_db_setup"}

    def no_database(item) -> bool:
        return item.get_closest_marker("django_db") is None and not uses_db & set(getattr(item, "fixturenames", ()))

    items.sort(key=lambda item: not no_database(item))


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CREDENTIAL_ENCRYPTION_KEYS = [TEST_ENCRYPTION_KEY]
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]


@pytest.fixture(autouse=True)
def _empty_row_cache():
    """Rendered rows are cached in the process's memory: each test starts without them."""
    caches["rows"].clear()


@pytest.fixture(autouse=True)
def _empty_redis_after_each_test():
    """With REDIS_URL (CI's PostgreSQL pass) the cache and the task queue live in Redis,
    outside the test's transaction: empty its database after each test, as the rollback
    does for everything else."""
    yield
    if django_settings.REDIS_URL:
        cache.clear()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.test", "alice-pass-2026")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.test", "bob-pass-2026")


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", "carol@example.test", "carol-pass-2026")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def unreachable_providers(settings):
    """Point every provider at a loopback port where nothing listens."""
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        setattr(settings, f"{name}_BASE_URL", "http://127.0.0.1:9")
