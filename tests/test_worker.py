"""A real `manage.py qcluster` syncs keys on its own schedule (end to end, over loopback)."""

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from picklefield.fields import dbsafe_decode

from tests.fixtures_simulator import separate_process_env

ROOT = Path(__file__).resolve().parent.parent
SETUP = """
from django.contrib.auth.models import User
from providers.models import Credential
alice = User.objects.create_user("alice")
for provider in ("munsit", "apimall"):
    c = Credential(owner=alice, provider=provider, label=provider)
    c.set_secret(f"sim-{provider}-worker")
    c.save()
"""


# django-q2's scheduler first looks at schedules 30 s after the cluster starts: this test
# takes ~35 s, so it runs once, on the SQLite pass (the worker uses its own SQLite file).
@pytest.mark.skipif(connection.vendor != "sqlite", reason="runs on the SQLite pass only")
def test_the_worker_imports_every_key_on_its_own(make_simulator, tmp_path):
    simulator = make_simulator()
    database = tmp_path / "genboard.sqlite3"
    env = separate_process_env(simulator, tmp_path, Q_WORKERS="1")

    def manage(*args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=120)  # noqa: S603

    manage("migrate", "--noinput", "-v0")
    manage("shell", "-c", SETUP)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        jobs = 0
        for _ in range(120):
            with sqlite3.connect(database, timeout=10) as db:
                jobs = db.execute("SELECT count(*) FROM history_job").fetchone()[0]
            if jobs == 300:
                break
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert jobs == 300, worker.stderr.read().decode()[-2000:]
    with sqlite3.connect(database) as db:
        # The web server and the worker share the file without "database is locked".
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tasks = db.execute("SELECT func, args FROM django_q_task").fetchall()
        results = [dbsafe_decode(r) for (r,) in db.execute("SELECT result FROM django_q_task WHERE result IS NOT NULL")]
        runs = db.execute("SELECT trigger, state FROM history_syncrun").fetchall()
    assert {func for func, _ in tasks} >= {"history.tasks.dispatch", "history.tasks.sync_key"}
    # Tasks get ids, never secrets: every argument of every task is a number.
    assert all(isinstance(arg, int) for _, args in tasks if args for arg in dbsafe_decode(args))
    # Results are plain summaries: a pickled Credential would keep its ciphertext in the row.
    assert results and all(isinstance(result, dict | int) for result in results)
    assert all(isinstance(v, str | int | bool) for r in results if isinstance(r, dict) for v in r.values())
    assert sorted(runs) == [("schedule", "done"), ("schedule", "done")]
