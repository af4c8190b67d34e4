import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

from core.checks import refuse_misconfigured_start  # noqa: E402  (needs Django set up)

refuse_misconfigured_start()
