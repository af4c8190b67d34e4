"""One structured line per request and per sync run (core/logs.py), never a secret."""

import logging
import re

import pytest

from core import logs
from history.sync import sync_credential
from tests.factories import make_credential

pytestmark = pytest.mark.django_db


def test_a_line_is_key_value_pairs_quoted_where_needed():
    assert logs.line("sync", key=3, provider="munsit", message='a "b" c') == (
        'event=sync key=3 provider=munsit message="a \\"b\\" c"'
    )


def test_one_line_per_request_without_its_query(alice_client, alice, caplog):
    with caplog.at_level(logging.INFO, logger="genboard.request"):
        alice_client.get("/history/?q=private+words", HTTP_HX_REQUEST="true")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "genboard.request"]
    assert line.startswith(f"event=request method=GET path=/history/ status=200 user={alice.pk} htmx=1 duration_ms=")
    assert "private" not in line


def test_one_line_per_sync_run_with_counts_and_no_secret(alice, caplog, quiet_simulator):
    secret = "sim-munsit-logline-n120"
    credential = make_credential(alice, provider="munsit", secret=secret)
    with caplog.at_level(logging.INFO, logger="history.sync"):
        sync_credential(credential.pk)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("event=sync")]
    # Two pages of Munsit's history, plus the key's check and balance calls.
    pattern = rf"event=sync key={credential.pk} provider=munsit trigger=schedule state=done pages=2 requests=\d+ "
    assert re.match(pattern + r"new=120 updated=0 duration_ms=\d+$", line), line
    assert secret not in line and secret[-4:] not in line


@pytest.fixture
def quiet_simulator(simulator):
    simulator.world.new_every = 0
    return simulator
