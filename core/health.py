"""`/healthz`: 200 when the database and the cache/broker answer, 503 otherwise; with
`?workers=1` also a django-q2 cluster's heartbeat from the last few seconds.

A few lines rather than django-health-check (4.8 supports Django 6.1): its view answers 500
where our interface promises 503, its database check opens a fresh connection per probe
(`temporary_connection()` in a thread pool, so every load-balancer probe would cost a
PostgreSQL backend and bypass CONN_MAX_AGE), and it has no django-q2 heartbeat check. Here
each probe is one `SELECT 1` on the request's own connection, one cache read and one broker
ping, on a broker client made once per process.
"""

import logging

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.brokers import Broker, get_broker
from django_q.status import Stat

logger = logging.getLogger(__name__)
_broker: Broker | None = None


def broker() -> Broker:
    global _broker
    if _broker is None:
        _broker = get_broker()
    return _broker


def database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def cache_and_broker() -> None:
    cache.get("genboard:healthz")
    if not broker().ping():
        raise ConnectionError("the broker did not answer")


def workers() -> None:
    # Each running cluster saves its status every half second, kept for 3 s.
    if not Stat.get_all(broker()):
        raise LookupError("no worker cluster has reported in the last few seconds")


def run_checks(with_workers: bool) -> dict[str, str]:
    checks = {"database": database, "cache": cache_and_broker}
    if with_workers:
        checks["workers"] = workers
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as e:
            # The exception's class only: a message may carry a connection URL.
            logger.warning("healthz: %s failed: %s", name, type(e).__name__)
            results[name] = f"failing ({type(e).__name__})"
        else:
            results[name] = "ok"
    return results


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    results = run_checks(with_workers=request.GET.get("workers") == "1")
    healthy = all(result == "ok" for result in results.values())
    return JsonResponse(results, status=200 if healthy else 503)
