"""What each pytest-xdist worker (`bin/test` runs the suite on several) needs of its own, set
before pytest-django sets Django up: pyproject's addopts load this plugin with `-p`, as a
conftest is read only after Django has read its settings.

Each worker has its own test database already (pytest-django suffixes its name with the worker
id: `test_…_gw0`), its own temporary directories (VAR_DIR and MEDIA_ROOT are under tmp_path)
and free ports. Redis is the one thing shared: tests/conftest.py empties the Redis database
after each test, which would empty another worker's cache, rate limits and task queue mid-test.
So worker gwN uses REDIS_URL's database minus N: `REDIS_URL=redis://127.0.0.1:6379/15` with two
workers is databases 15 (gw0) and 14 (gw1). It goes through the environment, so the settings,
django-q2's broker and the Genboard processes the tests start all use the worker's database.
"""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest


def worker_redis_url(url: str, worker: int) -> str:
    """`url` with its database number lowered by `worker` (the path's number; 0 without one)."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    if base - worker < 0:
        raise pytest.UsageError(
            f"REDIS_URL names database {base}: too low for xdist worker gw{worker}, which uses the "
            f"database {worker} below it. Name a higher database (e.g. /15) or run fewer workers (-n)."
        )
    return urlunsplit(parts._replace(path=f"/{base - worker}"))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], int(worker.removeprefix("gw")))
