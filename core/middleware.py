import zoneinfo
from urllib.parse import unquote

from django.utils import timezone

TZ_COOKIE = "tz"


class TimezoneMiddleware:
    """Show times in the browser's timezone.

    static/js/genboard.js stores the browser's IANA zone name in a cookie; until it has,
    and for any name Python does not know, times are shown in UTC.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = unquote(request.COOKIES.get(TZ_COOKIE, ""))
        try:
            zone = zoneinfo.ZoneInfo(name) if name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # The zone is this request's: a thread serving the next one starts from UTC.
            timezone.deactivate()
