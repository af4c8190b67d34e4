"""bin/serve: production shape from the environment alone; refuses a missing or weak secret;
stops its whole process group within seconds on SIGTERM."""

import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
SERVE = [str(ROOT / "bin" / "serve")]
STRONG_SECRET = "k" * 20 + "Q7-xv!p2Zr9@Lm4#Tq8&Wn5*Hs3^Jd6(Fg1)Yb0_Ce" + "u" * 10


def serve_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "CREDENTIAL_ENCRYPTION_KEYS"}
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'genboard.sqlite3'}",
        GENBOARD_VAR_DIR=str(tmp_path),
        STATIC_ROOT=str(tmp_path / "static"),
        SECRET_KEY=STRONG_SECRET,
        CREDENTIAL_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="127.0.0.1",
        HOST="127.0.0.1",
        WEB_CONCURRENCY="1",
        WORKERS="1",
        Q_WORKERS="1",
        STOP_GRACE="5",
        LOG_LEVEL="WARNING",
    )
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def refused(env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603
        SERVE,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )
    assert done.returncode != 0
    assert "Genboard serving" not in done.stderr
    return done


def test_a_missing_secret_refuses_the_start(tmp_path):
    env = serve_env(tmp_path)
    del env["SECRET_KEY"]
    done = refused(env)
    assert "SECRET_KEY is not set" in done.stderr
    database = tmp_path / "genboard.sqlite3"
    if database.exists():  # opened by the checks, but not migrated
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone() == (0,)


def test_a_weak_secret_refuses_the_start(tmp_path):
    done = refused(serve_env(tmp_path, SECRET_KEY="x"))
    assert "SECRET_KEY" in done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_it_serves_with_workers_and_stops_its_whole_group_on_sigterm(tmp_path):
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        SERVE,
        cwd=ROOT,
        env=serve_env(tmp_path, PORT=str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    pgid = os.getpgid(server.pid)
    try:
        status = None
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?workers=1", timeout=2) as answer:
                    status = answer.status
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # not up, or slow on a loaded machine
                time.sleep(0.25)
        assert status == 200, server.stderr.read1().decode()[-2000:] if server.poll() is not None else "no answer"
        assert len(group_members(pgid)) >= 4  # bin/serve, gunicorn's master and worker, a qcluster…
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0  # STOP_GRACE is 5 s here
        for _ in range(20):
            if not group_alive(pgid):
                break
            time.sleep(0.1)
        assert not group_alive(pgid), "processes of bin/serve's group outlived it"
    finally:
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
