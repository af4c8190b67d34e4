import pytest
from django.utils import timezone

from core.middleware import TimezoneMiddleware


@pytest.mark.parametrize(
    ("cookie", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("America%2FNew_York", "America/New_York"),
        ("", "UTC"),
        ("Mars/Olympus", "UTC"),
        ("../../etc/passwd", "UTC"),
    ],
)
def test_times_follow_the_browsers_zone(rf, cookie, zone):
    request = rf.get("/")
    request.COOKIES["tz"] = cookie
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()

    TimezoneMiddleware(view)(request)
    assert seen["zone"] == zone
