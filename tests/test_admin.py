"""The admin: every model registered and usable, no secret on any page, actions that work,
and a jobs list that stays quick however many jobs there are."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.conf import Conf

from history.admin import CappedCountPaginator
from history.models import Job, SyncRun
from providers.models import Credential
from teams import actions
from teams.models import AuditEvent, Invite, Member
from tests.factories import make_credential
from tests.queue import queued_tasks
from tests.test_team_access import make_job

CANARY = "sk-ADMIN-canary-9f8e7d6c5b4a"


@pytest.fixture
def world(alice, bob):
    key = make_credential(alice, "apimall", label="Main", secret=CANARY)
    team = actions.create_team(alice, "Studio")
    actions.add_member(alice, team, bob, Member.Role.VIEWER)
    actions.share(alice, team, key)
    actions.create_invite(alice, team, Member.Role.MEMBER)
    jobs = [
        make_job(key, "j-1", title="Done song", raw={"id": "j-1", "nested": {"ok": True}}),
        make_job(key, "j-2", title="Waiting song", status=Job.Status.RUNNING, stale=True, days_ago=1),
    ]
    run = SyncRun.objects.create(credential=key, trigger=SyncRun.Trigger.SCHEDULE, state=SyncRun.State.DONE)
    return {"key": key, "team": team, "jobs": jobs, "run": run, "event": AuditEvent.objects.first()}


def admin_pages(world, admin_user):
    key, team, job, run = world["key"], world["team"], world["jobs"][0], world["run"]
    return [
        "/admin/",
        "/admin/auth/user/",
        f"/admin/auth/user/{key.owner_id}/change/",
        f"/admin/auth/user/{admin_user.pk}/change/",
        "/admin/providers/credential/",
        "/admin/providers/credential/?q=Main",
        "/admin/providers/credential/?provider__exact=apimall&status__exact=unchecked",
        f"/admin/providers/credential/{key.pk}/change/",
        f"/admin/providers/credential/{key.pk}/history/",
        f"/admin/providers/credential/{key.pk}/delete/",
        "/admin/history/job/",
        f"/admin/history/job/?credential={key.pk}",
        "/admin/history/job/?provider__exact=apimall&kind__exact=audio&status__exact=running&stale__exact=1",
        "/admin/history/job/?q=alice",
        "/admin/history/job/?q=j-2",
        "/admin/history/job/?created__year=2026&created__month=11",
        f"/admin/history/job/{job.pk}/change/",
        "/admin/history/syncrun/",
        f"/admin/history/syncrun/{run.pk}/change/",
        "/admin/teams/team/",
        f"/admin/teams/team/{team.pk}/change/",
        "/admin/teams/auditevent/",
        "/admin/teams/auditevent/?verb=share.add",
        f"/admin/teams/auditevent/{world['event'].pk}/change/",
        "/admin/django_q/schedule/",
        *(["/admin/django_q/ormq/"] if Conf.ORM else []),  # the queue is only in the database with the ORM broker
        "/admin/django_q/failure/",
        "/admin/django_q/success/",
        "/admin/autocomplete/?app_label=teams&model_name=member&field_name=user&term=ali",
    ]


def assert_no_secret(text: str, key: Credential) -> None:
    assert CANARY not in text
    assert key.secret.stored not in text
    assert key.secret.stored.partition("$")[2][:20] not in text  # not even part of the ciphertext


@pytest.mark.django_db
def test_every_admin_page_works_and_none_shows_the_secret(admin_client, admin_user, world):
    for url in admin_pages(world, admin_user):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_no_secret(response.content.decode(), world["key"])


@pytest.mark.django_db
def test_admin_index_lists_every_model(admin_client, world):
    text = admin_client.get("/admin/").text
    for url in [
        "/admin/auth/user/",
        "/admin/providers/credential/",
        "/admin/history/job/",
        "/admin/history/syncrun/",
        "/admin/teams/team/",
        "/admin/teams/auditevent/",
        "/admin/django_q/schedule/",
        "/admin/django_q/failure/",
    ]:
        assert f'href="{url}"' in text, url


@pytest.mark.django_db
def test_the_secret_is_no_field_of_the_key_form_and_cannot_be_changed(admin_client, world):
    key = world["key"]
    page = admin_client.get(f"/admin/providers/credential/{key.pk}/change/")
    form = page.context["adminform"].form
    assert list(form.fields) == ["label"]
    assert 'name="secret"' not in page.text and f"…{key.last4}" in page.text
    response = admin_client.post(
        f"/admin/providers/credential/{key.pk}/change/", {"label": "Renamed", "secret": "sk-overwritten-1234"}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.label == "Renamed" and key.secret.reveal() == CANARY and key.last4 == CANARY[-4:]
    history = admin_client.get(f"/admin/providers/credential/{key.pk}/history/").text
    assert "Changed Label." in history
    assert_no_secret(history, key)
    assert admin_client.get("/admin/providers/credential/add/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("lookup", ["secret__startswith", "secret", "secret__contains"])
def test_the_key_list_cannot_be_filtered_on_the_ciphertext(admin_client, world, lookup):
    prefix = world["key"].secret.stored[:6]
    assert admin_client.get(f"/admin/providers/credential/?{lookup}={prefix}").status_code == 400
    assert admin_client.get(f"/admin/providers/credential/?label={world['key'].label}").status_code == 200


@pytest.mark.django_db
def test_searching_for_the_secret_finds_nothing(admin_client, world):
    for term in [CANARY, CANARY[:12], world["key"].secret.stored[:6]]:
        response = admin_client.get("/admin/providers/credential/", {"q": term})
        assert list(response.context["cl"].result_list) == [], term
    found = admin_client.get("/admin/providers/credential/", {"q": CANARY[-4:]}).context["cl"].result_list
    assert list(found) == [world["key"]]  # by its last four, which is what the list shows


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/admin/history/job/?credential__secret__startswith=", "/admin/auth/user/?credentials__secret__startswith="]
)
def test_related_lists_cannot_be_filtered_on_the_ciphertext_either(admin_client, world, url):
    assert admin_client.get(url + world["key"].secret.stored[:6]).status_code == 400


@pytest.mark.django_db
def test_check_key_now_action(admin_client, admin_user, world, monkeypatch):
    checked = []

    def fake_check(self):
        checked.append(self.pk)
        Credential.objects.filter(pk=self.pk).update(status=Credential.Status.OK, checked=timezone.now())
        self.status = Credential.Status.OK

    monkeypatch.setattr(Credential, "check_with_provider", fake_check)
    other = make_credential(admin_user, "munsit", label="Other", secret=CANARY + "x")
    response = admin_client.post(
        "/admin/providers/credential/",
        {"action": "check_now", "_selected_action": [world["key"].pk, other.pk]},
        follow=True,
    )
    assert sorted(checked) == sorted([world["key"].pk, other.pk])
    assert "Checked 2 key(s). Working: 2." in response.text
    assert AuditEvent.objects.filter(verb="key.check", actor=admin_user).count() == 2
    assert_no_secret(response.text, world["key"])
    assert CANARY + "x" not in response.text


@pytest.mark.django_db
def test_check_key_now_asks_the_provider_and_records_the_outcome(admin_client, world, unreachable_providers):
    admin_client.post("/admin/providers/credential/", {"action": "check_now", "_selected_action": [world["key"].pk]})
    world["key"].refresh_from_db()
    assert world["key"].checked is not None and "Could not connect" in world["key"].last_error


@pytest.mark.django_db
def test_resync_action_queues_a_manual_sync_of_usable_keys(admin_client, world, alice):
    rejected = make_credential(alice, "munsit", label="Dead", status=Credential.Status.REJECTED)
    response = admin_client.post(
        "/admin/providers/credential/",
        {"action": "resync", "_selected_action": [world["key"].pk, rejected.pk]},
        follow=True,
    )
    runs = SyncRun.objects.filter(trigger=SyncRun.Trigger.MANUAL)
    assert [run.credential_id for run in runs] == [world["key"].pk]
    assert "Queued a sync of 1 key(s)." in response.text and "Skipped 1 rejected" in response.text
    assert_no_secret(response.text, world["key"])
    assert all(CANARY not in str(task) for task in queued_tasks())


@pytest.mark.django_db
def test_delete_confirmation_and_deletion_never_show_the_secret(admin_client, world):
    key = world["key"]
    page = admin_client.post(
        "/admin/providers/credential/", {"action": "delete_selected", "_selected_action": [key.pk]}
    )
    assert page.status_code == 200 and "Are you sure you want to delete" in page.text
    assert_no_secret(page.text, key)
    done = admin_client.post(
        "/admin/providers/credential/",
        {"action": "delete_selected", "_selected_action": [key.pk], "post": "yes"},
        follow=True,
    )
    assert not Credential.objects.filter(pk=key.pk).exists()
    assert_no_secret(done.text, key)
    assert_no_secret(admin_client.get("/admin/").text, key)  # the recent-actions list


@pytest.mark.django_db
def test_job_page_shows_the_raw_record_as_pretty_json_read_only(admin_client, world):
    job = world["jobs"][0]
    page = admin_client.get(f"/admin/history/job/{job.pk}/change/")
    assert "{\n  &quot;id&quot;: &quot;j-1&quot;,\n  &quot;nested&quot;: {\n    &quot;ok&quot;: true" in page.text
    assert list(page.context["adminform"].form.fields) == []
    assert admin_client.get("/admin/history/job/add/").status_code == 403


@pytest.mark.django_db
def test_mark_for_refresh_only_touches_unfinished_jobs(admin_client, world):
    done, waiting = world["jobs"]
    response = admin_client.post(
        "/admin/history/job/", {"action": "mark_for_refresh", "_selected_action": [done.pk, waiting.pk]}, follow=True
    )
    assert "1 unfinished job(s) will be refreshed on the next sync." in response.text
    done.refresh_from_db()
    waiting.refresh_from_db()
    assert done.next_poll is None
    assert waiting.next_poll is not None and waiting.next_poll <= timezone.now() and not waiting.stale


@pytest.mark.django_db
def test_job_list_search_and_filters(admin_client, world, bob):
    make_job(make_credential(bob, "munsit", label="Bob's"), "b-1", title="Bob denoise", kind=Job.Kind.DENOISE)

    def titles(query):
        return {str(job) for job in admin_client.get(f"/admin/history/job/?{query}").context["cl"].result_list}

    assert titles("") == {"Done song", "Waiting song", "Bob denoise"}
    assert titles("q=alice") == {"Done song", "Waiting song"}
    assert titles("q=b-1") == {"Bob denoise"}
    assert titles("q=waiting") == {"Waiting song"}
    assert titles("kind__exact=denoise") == {"Bob denoise"}
    assert titles("stale__exact=1") == {"Waiting song"}
    assert titles(f"credential={world['key'].pk}") == {"Done song", "Waiting song"}


@pytest.mark.django_db
def test_job_list_makes_no_query_per_row_and_never_counts_the_whole_table(admin_client, world):
    key = world["key"]

    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/history/job/").status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    few = queries_for_list()
    Job.objects.bulk_create(
        [
            Job(credential=key, provider="apimall", kind="audio", external_id=f"x-{i}", status="succeeded",
                created=timezone.now())
            for i in range(40)
        ]
    )  # fmt: skip
    many = queries_for_list()
    assert len(many) == len(few)
    counts = [sql for sql in many if re.search(r"COUNT\(", sql, re.I) and "history_job" in sql]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts
    assert not any("DISTINCT" in sql.upper() for sql in many)  # the date hierarchy reads MIN and MAX


def test_date_hierarchy_periods():
    from datetime import date

    from history.admin import periods

    assert periods(date(2024, 11, 5), date(2026, 2, 1), "year") == [
        date(2024, 1, 1),
        date(2025, 1, 1),
        date(2026, 1, 1),
    ]
    assert periods(date(2024, 11, 5), date(2025, 2, 1), "month") == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]
    assert periods(date(2024, 2, 28), date(2024, 3, 1), "day") == [
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]


@pytest.mark.django_db
def test_date_hierarchy_drills_down_from_first_to_last_job(admin_client, world):
    key = world["key"]
    make_job(key, "old", days_ago=800)
    years = admin_client.get("/admin/history/job/").text
    assert "?created__year=2024" in years and "?created__year=2025" in years and "?created__year=2026" in years
    months = admin_client.get("/admin/history/job/?created__year=2026").text
    assert "created__month=11" in months
    days = admin_client.get("/admin/history/job/?created__year=2026&created__month=11").text
    assert "created__day=19" in days and "created__day=20" in days


@pytest.mark.django_db
def test_capped_paginator(world, settings):
    key = world["key"]
    for i in range(10):
        make_job(key, f"p-{i}")
    paginator = CappedCountPaginator(Job.objects.order_by("-created", "-id"), per_page=2)
    paginator.CAP = 5
    assert paginator.count == 6 and paginator.capped and paginator.num_pages == 3
    small = CappedCountPaginator(Job.objects.filter(external_id="j-1").order_by("pk"), per_page=2)
    assert small.count == 1 and not small.capped and small.num_pages == 1


@pytest.mark.django_db
def test_capped_job_list_says_so(admin_client, world, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 1)
    text = admin_client.get("/admin/history/job/").text
    assert "More than 1 jobs: filter or search to narrow the list." in text


@pytest.mark.django_db
def test_user_page_links_to_keys_and_teams(admin_client, world, alice):
    page = admin_client.get(f"/admin/auth/user/{alice.pk}/change/").text
    assert f"/admin/providers/credential/{world['key'].pk}/change/" in page
    assert "Studio" in page and "Main" in page
    listing = admin_client.get("/admin/auth/user/")
    row = next(u for u in listing.context["cl"].result_list if u.pk == alice.pk)
    assert row.key_count == 1 and row.team_count == 1


@pytest.mark.django_db
def test_team_admin_keeps_an_owner(admin_client, world):
    team = world["team"]
    page = admin_client.get(f"/admin/teams/team/{team.pk}/change/")
    data = {"name": team.name, "slug": team.slug}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
        for form in formset.forms:
            for name in form.fields:
                value = form[name].value()
                if value is not None:
                    data[form.add_prefix(name)] = value
    owner_field = next(k for k, v in data.items() if k.startswith("members-") and v == "owner")
    response = admin_client.post(f"/admin/teams/team/{team.pk}/change/", {**data, owner_field: "viewer"})
    assert response.status_code == 200 and "A team must keep at least one owner." in response.text
    assert team.members.filter(role="owner").count() == 1
    assert Invite.objects.filter(team=team).exists()  # untouched by the failed save
    response = admin_client.post(f"/admin/teams/team/{team.pk}/change/", {**data, "name": "Studio B"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Studio B"


@pytest.mark.django_db
def test_invite_tokens_are_not_shown_in_the_admin(admin_client, world):
    from django.contrib.contenttypes.models import ContentType

    invite = Invite.objects.get()
    page = admin_client.get(f"/admin/teams/team/{world['team'].pk}/change/")
    assert invite.token not in page.text and "View on site" not in page.text
    # Nor handed out by the admin's "view on site" redirect.
    content_type = ContentType.objects.get_for_model(Invite)
    assert admin_client.get(f"/admin/r/{content_type.pk}/{invite.pk}/").status_code == 404


@pytest.mark.django_db
def test_staff_without_change_permission_cannot_mark_jobs(client, django_user_model, world):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("olga", "olga@example.test", "x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_job"))
    client.force_login(staff)
    page = client.get("/admin/history/job/")
    assert page.status_code == 200 and "mark_for_refresh" not in page.text
    waiting = world["jobs"][1]
    client.post("/admin/history/job/", {"action": "mark_for_refresh", "_selected_action": [waiting.pk]})
    waiting.refresh_from_db()
    assert waiting.next_poll is None and waiting.stale


@pytest.mark.django_db
def test_read_only_models(admin_client, world):
    assert admin_client.get("/admin/history/syncrun/add/").status_code == 403
    assert admin_client.get("/admin/teams/auditevent/add/").status_code == 403
    event = world["event"]
    response = admin_client.post(f"/admin/teams/auditevent/{event.pk}/change/", {"subject": "rewritten"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/teams/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.subject != "rewritten"


@pytest.mark.django_db
def test_people_who_are_not_staff_are_sent_to_the_admin_log_in(alice_client, world):
    response = alice_client.get("/admin/providers/credential/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login/")
