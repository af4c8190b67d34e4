import os
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from core.checks import production_secrets

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CREDENTIAL_ENCRYPTION_KEYS", "DEBUG")}
    return subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DATABASE_URL": "sqlite:///:memory:", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secrets_is_refused(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = ""
    settings.CREDENTIAL_ENCRYPTION_KEYS = []
    assert {e.id for e in production_secrets(None)} == {"genboard.E001", "genboard.E002"}
    settings.DEBUG = True
    assert production_secrets(None) == []


def test_a_keyless_production_start_stops_with_a_clear_message():
    result = manage("check", DEBUG="0", SECRET_KEY="prod-" + "k8Zq2" * 12)
    assert result.returncode != 0
    assert "CREDENTIAL_ENCRYPTION_KEYS is not set" in result.stderr


def test_a_production_start_without_secret_key_stops_with_a_clear_message():
    result = manage("check", DEBUG="0", CREDENTIAL_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="prod-" + "k8Zq2" * 12,
        CREDENTIAL_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="genboard.example.com",
    )
    assert result.returncode == 0, result.stderr + result.stdout


STRONG_SECRET_KEY = "prod-" + "k8Zq2" * 12


def test_weak_production_secrets_are_refused(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "x"
    settings.CREDENTIAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "notakey"]
    assert {e.id for e in production_secrets(None)} == {"genboard.E003", "genboard.E004"}
    for weak in ("django-insecure-" + "abcdefgh" * 8, "ab" * 40, "short-but-varied-123"):
        settings.SECRET_KEY = weak
        assert "genboard.E003" in {e.id for e in production_secrets(None)}, weak
    settings.SECRET_KEY = STRONG_SECRET_KEY
    settings.CREDENTIAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert production_secrets(None) == []


def test_migrate_stops_on_a_value_that_is_not_a_fernet_key():
    result = manage("migrate", DEBUG="0", SECRET_KEY=STRONG_SECRET_KEY, CREDENTIAL_ENCRYPTION_KEYS="notakey")
    assert result.returncode != 0
    assert "not Fernet keys" in result.stderr and "number 1 of 1" in result.stderr
    assert "notakey" not in result.stderr  # named by position, not echoed


def test_the_wsgi_start_stops_on_a_weak_secret_key():
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CREDENTIAL_ENCRYPTION_KEYS", "DEBUG")}
    env = {**clean, "DATABASE_URL": "sqlite:///:memory:", "DEBUG": "0", "SECRET_KEY": "x"}
    env["CREDENTIAL_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_the_dev_database_and_var_dir_are_owner_only(tmp_path):
    var = tmp_path / "fresh" / "var"
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    code = (
        "import django, os, sys; django.setup(); from django.db import connection;"
        "connection.cursor().execute('create table t (x int)');"
        "print(oct(os.stat(sys.argv[1]).st_mode & 0o777))"  # while open: SQLite deletes it on close
    )
    result = subprocess.run(  # noqa: S603 (our own settings, fixed arguments)
        [sys.executable, "-c", code, str(var / "genboard.sqlite3-wal")],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "GENBOARD_VAR_DIR": str(var)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    database = var / "genboard.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert result.stdout.strip() == "0o600"  # the -wal file


def test_with_redis_sessions_are_read_from_the_cache():
    """One database query less per request; the database still holds every session."""
    show = "from django.conf import settings; print(settings.SESSION_ENGINE, settings.CACHES['rows']['BACKEND'])"
    with_redis = manage("shell", "--no-imports", "-c", show, REDIS_URL="redis://127.0.0.1:6379/13")
    assert with_redis.stdout.split() == [
        "django.contrib.sessions.backends.cached_db",
        "django.core.cache.backends.locmem.LocMemCache",
    ]
    assert (
        manage("shell", "--no-imports", "-c", show, REDIS_URL="").stdout.split()[0]
        == "django.contrib.sessions.backends.db"
    )
