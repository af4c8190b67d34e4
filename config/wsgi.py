import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from core.checks import refuse_misconfigured_start  # noqa: E402  (needs Django set up)
from core.dbtimeout import limit_web_statements  # noqa: E402

refuse_misconfigured_start()
# Only the web server loads this module: workers and manage.py run without the limit.
limit_web_statements()
