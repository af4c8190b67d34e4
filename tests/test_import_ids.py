"""Import accepts only tokens that look like Apikley task ids, and says why it left the others out."""

from html import unescape

import pytest

from history.models import Job
from providers.apikley import task_id_problem
from tests.factories import make_credential

pytestmark = pytest.mark.django_db

GOOD = ["5c79be8e1d2f4a0b9c3e7d6f5a4b3c2d", "task_0001", "0d3f9a1c-77aa-4b2e-9c1d-2e4f6a8b0c12"]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("DROP", "4 characters: task ids have 8 to 64"),
        ("TABLE;", "only letters, digits, - and _"),
        ("not-a-task-id", "no digits"),
        ("a" * 63 + "12", "65 characters"),
        ("../../etc/passwd1", "only letters, digits, - and _"),
        ("tâche-12345", "only letters, digits, - and _"),
    ],
)
def test_what_is_not_a_task_id(token, reason):
    assert reason in task_id_problem(token)


@pytest.mark.parametrize("token", GOOD)
def test_what_is(token):
    assert task_id_problem(token) == ""


def test_import_keeps_the_ids_and_lists_the_rest_with_reasons(alice, alice_client, unreachable_providers):
    suno = make_credential(alice, provider="apikley", label="Suno")
    long_id = "x" * 300
    text = "\n".join([*GOOD, "DROP", "TABLE", "not-a-task-id", long_id])
    response = alice_client.post("/history/import/", {"credential": suno.code, "task_ids": text}, follow=True)
    assert sorted(Job.objects.filter(credential=suno).values_list("external_id", flat=True)) == sorted(GOOD)
    page = unescape(response.text)
    assert "Not imported: 4 entries are not task ids" in page
    assert "“DROP” (4 characters: task ids have 8 to 64)" in page
    assert "“not-a-task-id” (no digits: task ids have some)" in page
    assert "x" * 39 + "…" in page and long_id not in page  # a pasted wall is cut short


def test_nothing_but_words_is_a_form_error(alice, alice_client):
    suno = make_credential(alice, provider="apikley", label="Suno")
    response = alice_client.post("/history/import/", {"credential": suno.code, "task_ids": "DROP TABLE jobs"})
    assert response.status_code == 400
    assert "None of these look like task ids" in unescape(response.text) and "“jobs”" in unescape(response.text)
    assert not Job.objects.exists()
