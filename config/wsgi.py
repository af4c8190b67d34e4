import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from core.checks import refuse_misconfigured_start  # noqa: E402  (needs Django set up)
from core.dbtimeout import limit_web_statements  # noqa: E402

refuse_misconfigured_start()
# Only the web server loads this module: workers and manage.py run without the limit.
limit_web_statements()
# What start-up made (modules, settings, URL patterns, templates) lives as long as the process:
# frozen, the collector's full passes, which a request's allocations set off every few dozen
# requests, no longer walk its 100,000-odd objects (about 1 ms a request on the history,
# bench/pages_bench.py, which starts Django through this module too).
gc.freeze()
