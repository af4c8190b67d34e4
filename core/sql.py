"""For the few statements written in SQL (each says why it is not a queryset), and the few
compiled once."""

import contextlib

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


def placeholders(count: int) -> str:
    """`count` parameter slots, comma-separated, for an IN (…) or a VALUES (…): every value is
    passed as a parameter, never written into the statement."""
    return ", ".join(["%s"] * count)


# Stands for a value (a key's id, a person's) in a statement compiled once and run with many:
# no row has a negative id, and it is inside an integer column's range (Django checks that
# when it compiles a lookup).
STAND_IN = -2_147_483_000


def someone():
    """A person who stands in for the one a compiled statement is run for (pk STAND_IN)."""
    return get_user_model()(pk=STAND_IN)


def compiled(queryset: QuerySet) -> tuple[str, tuple, frozenset[int]]:
    """The queryset's SQL, its parameters, and which of them are STAND_IN (slots()). Django compiles a
    queryset each time it runs: a quarter of a millisecond for a small join, more than the
    database takes to answer for a page's keys or a person's teams. The few statements every
    history page makes are compiled once (the caller keeps them) and run with the value put in
    place (filled()), by Manager.raw(), which makes the rows model instances as Django does."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, tuple(params), slots(params, STAND_IN)


def slots(params, stand_in) -> frozenset[int]:
    """Where `stand_in` is among a compiled statement's parameters (another value than STAND_IN
    for a column that holds no integer: a tag's code, annotations.access.visible_tag)."""
    return frozenset(i for i, value in enumerate(params) if value == stand_in)


def filled(params: tuple, slots: frozenset[int], value) -> list:
    """The parameters with `value` in the stand-in's places."""
    return [value if i in slots else given for i, given in enumerate(params)]


@contextlib.contextmanager
def planned_each_time(wanted: bool = True, using: str = DEFAULT_DB_ALIAS):
    """Statements run inside are planned for their values each time, not prepared (PostgreSQL;
    config/settings.py prepares a statement at its fifth run). A prepared statement gets one
    plan for any values, made from average statistics: right for a walk down one key or a
    lookup by id, wrong where the values decide the plan. A person's 1,000 stars among 100,000
    jobs, or a common search word, planned for an average person's few hundred jobs, is
    hashed and sorted whole: 27-69 ms instead of 21-29 (bench/history_bench.py)."""
    connection = connections[using]
    if not wanted or connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    driver = connection.connection
    threshold, driver.prepare_threshold = driver.prepare_threshold, None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold
