"""Errors go to Sentry when SENTRY_DSN is set, scrubbed of anything secret (core/sentry.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from core.sentry import FILTERED, before_send

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sim-apimall-canary-0123456789"


def test_before_send_keeps_no_secret_anywhere():
    event = {
        "request": {
            "method": "POST",
            "url": "https://genboard.example/keys/new/?secret=" + SECRET,
            "headers": {"Cookie": "sessionid=abc", "X-Api-Key": SECRET},
            "data": {"secret": SECRET},
        },
        "exception": {
            "values": [{"stacktrace": {"frames": [{"function": "request", "vars": {"secret": SECRET, "k": SECRET}}]}}]
        },
        "breadcrumbs": {"values": [{"category": "httplib", "data": {"url": "https://x/?key=" + SECRET}}]},
        "extra": {"api_key": SECRET, "Authorization": "Bearer " + SECRET, "count": 3},
        "contexts": {"settings": {"CREDENTIAL_ENCRYPTION_KEYS": SECRET, "SECRET_KEY": SECRET}},
    }
    cleaned = before_send(event, {})
    assert SECRET not in json.dumps(cleaned)
    assert cleaned["request"] == {"method": "POST", "url": "https://genboard.example/keys/new/"}
    assert cleaned["extra"] == {"api_key": FILTERED, "Authorization": FILTERED, "count": 3}


def test_sentry_starts_only_with_a_dsn_and_with_the_scrubber():
    script = (
        "import django, json, sentry_sdk; django.setup(); client = sentry_sdk.get_client(); "
        "print(json.dumps([client.is_active(), getattr(client.options.get('before_send'), '__module__', None), "
        "client.options.get('send_default_pii'), client.options.get('include_local_variables')]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}

    def run(**extra: str) -> list:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script], cwd=ROOT, env={**env, **extra}, capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert run(SENTRY_DSN="")[0] is False
    # A DSN on loopback where nothing listens: nothing is sent by this test.
    assert run(SENTRY_DSN="http://public@127.0.0.1:9/1") == [True, "core.sentry", False, False]
