"""/healthz (core/health.py): no log-in, 200 only when the database and the cache/broker
answer, 503 otherwise; ?workers=1 also needs a worker cluster's heartbeat."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django_q.status import Stat

from core.dbtimeout import set_statement_timeout

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import django, json
django.setup()
from django.test import Client
answer = Client().get("/healthz")
print(json.dumps({"status": answer.status_code, "checks": answer.json()}))
"""


@pytest.mark.django_db
def test_healthy_without_a_log_in_and_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_workers_need_a_recent_heartbeat(client, monkeypatch):
    response = client.get("/healthz?workers=1")
    assert response.status_code == 503 and response.json()["workers"].startswith("failing")
    monkeypatch.setattr(Stat, "get_all", staticmethod(lambda broker=None: [object()]))  # a cluster reported
    assert client.get("/healthz?workers=1").status_code == 200


@pytest.mark.django_db
def test_probes_over_plain_http_are_not_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/history/").status_code == 301


def probe(**environment: str) -> dict:
    env = {**os.environ, "DEBUG": "1", "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "CRITICAL", **environment}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_dead_database_is_503(tmp_path):
    # Nothing listens on port 9: the database does not answer.
    answer = probe(
        DATABASE_URL="postgres://genboard@127.0.0.1:9/genboard", REDIS_URL="", GENBOARD_VAR_DIR=str(tmp_path)
    )
    assert answer["status"] == 503
    assert answer["checks"]["database"].startswith("failing (OperationalError")
    assert "127.0.0.1:9" not in json.dumps(answer)  # no connection details in the answer


def test_a_dead_broker_is_503(tmp_path):
    answer = probe(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:9/0",
        GENBOARD_VAR_DIR=str(tmp_path),
    )
    assert answer["status"] == 503
    assert answer["checks"] == {"database": "ok", "cache": "failing (ConnectionError)"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL setting")
@pytest.mark.django_db
def test_web_requests_get_a_statement_timeout(settings):
    settings.WEB_STATEMENT_TIMEOUT_MS = 15000
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("0",)  # workers and commands: none
        set_statement_timeout(None, connection)  # what config/wsgi.py hooks to each new connection
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("15s",)
        cursor.execute("SET statement_timeout = 0")


@pytest.mark.django_db
def test_only_the_web_server_hooks_the_statement_timeout():
    from django.db.backends.signals import connection_created

    def hooked() -> bool:
        # Each receiver is filed under (dispatch_uid, sender id).
        return any(entry[0][0] == "genboard-web-statement-timeout" for entry in connection_created.receivers)

    assert not hooked()  # tests, workers and commands do not load config/wsgi.py
    import config.wsgi  # noqa: F401  (what gunicorn loads)

    try:
        assert hooked()
    finally:
        connection_created.disconnect(dispatch_uid="genboard-web-statement-timeout")
