"""Each xdist worker's own Redis database (tests/xdist_worker.py)."""

import pytest

from tests.xdist_worker import worker_redis_url


def test_worker_n_uses_the_database_n_below_the_one_named():
    assert worker_redis_url("redis://127.0.0.1:6379/15", 0) == "redis://127.0.0.1:6379/15"
    assert worker_redis_url("redis://127.0.0.1:6379/15", 1) == "redis://127.0.0.1:6379/14"
    assert (
        worker_redis_url("redis://:pw@redis.internal:6380/7?timeout=5", 3)
        == "redis://:pw@redis.internal:6380/4?timeout=5"
    )
    assert worker_redis_url("redis://127.0.0.1:6379", 0) == "redis://127.0.0.1:6379/0"


def test_a_database_too_low_for_the_worker_stops_the_run():
    with pytest.raises(pytest.UsageError, match="too low for xdist worker gw2"):
        worker_redis_url("redis://127.0.0.1:6379/1", 2)
