import os
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
    result = manage("check", DEBUG="0", SECRET_KEY="s" * 60)
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
