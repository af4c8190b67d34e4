"""bin/start stops the web server, the qcluster (master, sentinel, workers) and the simulator
on SIGTERM as it does on Ctrl-C: within a few seconds, nothing of its process group left."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_members(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-e", "-o", "pgid=,pid=,args="], capture_output=True, text=True).stdout  # noqa: S607
    return [line for line in out.splitlines() if line.split()[0] == str(pgid)]


def test_sigterm_stops_every_process_of_the_demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update(GENBOARD_VAR_DIR=str(tmp_path / "var"), PORT=str(free_port()), SIM_PORT=str(free_port()))
    log = (tmp_path / "start.log").open("w+")
    start = subprocess.Popen(  # noqa: S603 (our own script)
        [str(ROOT / "bin" / "start")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while "Genboard is running" not in (tmp_path / "start.log").read_text():
            assert start.poll() is None and time.monotonic() < deadline, (tmp_path / "start.log").read_text()[-3000:]
            time.sleep(0.2)
        while not any("qcluster" in line for line in group_members(start.pid)):
            time.sleep(0.2)
        time.sleep(2)  # the cluster's sentinel and workers are up
        assert len(group_members(start.pid)) >= 4  # bin/start, simulator, web server, qcluster and its children
        os.kill(start.pid, signal.SIGTERM)
        stop_by = time.monotonic() + 12
        start.wait(timeout=12)  # reaped, so it does not linger as a zombie in the list
        while group_members(start.pid) and time.monotonic() < stop_by:
            time.sleep(0.1)
        left = group_members(start.pid)
        assert left == [], left
    finally:
        for line in group_members(start.pid):
            os.kill(int(line.split()[1]), signal.SIGKILL)
        start.wait(timeout=10)
