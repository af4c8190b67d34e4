"""Date filters: any day a browser's date picker can send is answered (no 500), days outside
what Genboard takes are ignored with the alert, and days are the viewer's days."""

from datetime import UTC, date, datetime
from html import unescape

import pytest
from django.utils import timezone

from history import dashboard
from history.filters import JobFilter
from history.models import Job
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

EDGES = ["0001-01-01", "1969-12-31", "1970-01-01", "9998-12-31", "9999-12-30", "9999-12-31"]


@pytest.fixture
def jobs(alice):
    key = make_credential(alice, provider="apimall", label="Mall")
    # 23:30 UTC on March 1st: still March 1st in London, already March 2nd in Tokyo.
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    Job.objects.create(
        credential=key,
        provider="apimall",
        kind="audio",
        external_id="late",
        title="Late",
        status="succeeded",
        created=late,
    )
    Job.objects.create(
        credential=key,
        provider="apimall",
        kind="audio",
        external_id="early",
        title="Early",
        status="succeeded",
        created=datetime(2026, 2, 20, 12, tzinfo=UTC),
    )
    return key


@pytest.mark.parametrize("day", EDGES)
@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_every_day_a_picker_sends_is_answered(alice_client, jobs, name, day):
    query = f"?{name}={day}"
    page = alice_client.get("/history/" + query)
    assert page.status_code == 200
    rows = alice_client.get("/history/" + query, headers={"HX-Request": "true"})
    assert rows.status_code == 200
    in_range = "1970-01-01" <= day <= "9998-12-31"
    assert ("Some filters were ignored" in page.text) != in_range
    for export in ("/history/export.json", "/history/export.csv"):
        response = alice_client.get(export + query)
        assert response.status_code == (200 if in_range else 400)
        if in_range:
            b"".join(response.streaming_content)  # streamed to the end without an error
        else:
            assert "Choose a day from 1970-01-01 to 9998-12-31" in response.text


@pytest.mark.parametrize(("after", "before"), [("1970-01-01", "9998-12-31"), ("9998-12-31", ""), ("", "1970-01-01")])
def test_the_widest_periods_make_a_dashboard(alice_client, jobs, after, before):
    page = alice_client.get(f"/history/?created_after={after}&created_before={before}")
    assert page.status_code == 200 and "Some filters were ignored" not in page.text


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Europe/London", {"Late"}), ("Asia/Tokyo", set()), ("America/Los_Angeles", {"Late"})],
)
def test_a_day_is_the_viewers_day(alice_client, jobs, zone, shown):
    alice_client.cookies["tz"] = zone
    page = unescape(alice_client.get("/history/?created_after=2026-03-01&created_before=2026-03-01").text)
    for title in ("Late", "Early"):
        assert (f">{title}<" in page) == (title in shown), title


def test_the_dashboard_counts_the_viewers_days(alice, jobs, rf):
    request = rf.get("/history/", {"created_after": "2026-03-01", "created_before": "2026-03-02"})
    request.user = alice
    with timezone.override("Asia/Tokyo"):
        filters = JobFilter(request.GET, queryset=Job.objects.visible_to(alice), request=request)
        dash = dashboard.dashboard(filters, alice)
    by_day = {bar.start: bar.total for bar in dash.bars}
    assert by_day == {date(2026, 3, 1): 0, date(2026, 3, 2): 1}  # 23:30 UTC is 08:30 next day in Tokyo
    assert dash.zone == "Asia/Tokyo"
