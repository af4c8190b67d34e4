"""A PostgreSQL statement_timeout for web requests only.

A web worker answers within a request's budget (long work, such as a large export, runs in
a django-q2 worker and hands back a file), so a query that runs away is cancelled instead of
holding a web process and a database backend. config/wsgi.py, which only the web server
loads, turns it on; workers, migrations and `manage.py` commands run without it.
"""

from django.conf import settings
from django.db.backends.signals import connection_created


def set_statement_timeout(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql" and settings.WEB_STATEMENT_TIMEOUT_MS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, false)", [str(settings.WEB_STATEMENT_TIMEOUT_MS)]
            )


def limit_web_statements() -> None:
    connection_created.connect(set_statement_timeout, dispatch_uid="genboard-web-statement-timeout")
