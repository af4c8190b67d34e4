import io

import pytest
import requests
from django.core.management import call_command

from history.models import Job
from hooks.models import Hook
from providers.models import Credential
from teams.models import Member, Share, Team


@pytest.mark.django_db
def test_the_demo_works_out_of_the_box_and_twice(simulator, client):
    for _ in range(2):
        out = io.StringIO()
        call_command("demo", site="http://127.0.0.1:9", stdout=out)
    assert "Imported 0 Suno task id(s) (150 already there)" in out.getvalue()  # the second run adds nothing
    assert set(Credential.objects.values_list("owner__username", "provider", "status")) == {
        ("demo", "apimall", "ok"),
        ("demo", "apikley", "ok"),
        ("demo", "audiopod", "ok"),
        ("demo", "munsit", "ok"),
        ("theo", "apimall", "ok"),
    }
    team = Team.objects.get(name="Studio")
    assert set(Member.objects.filter(team=team).values_list("user__username", "role")) == {
        ("demo", "owner"),
        ("theo", "member"),
    }
    assert Share.objects.get(team=team).credential.owner.username == "theo"
    assert Job.objects.filter(provider="apikley", status="pending").count() == 150
    assert client.login(username="demo", password="demo-genboard-2026")
    assert client.get("/history/").status_code == 200


@pytest.mark.django_db
def test_the_demo_says_so_when_the_simulator_is_not_there(unreachable_providers):
    out, err = io.StringIO(), io.StringIO()
    call_command("demo", stdout=out, stderr=err)
    assert "is the simulator running?" in err.getvalue()
    assert "Demo users: demo" in out.getvalue()


@pytest.mark.django_db
def test_the_demo_registers_its_webhooks_with_the_simulator(simulator):
    call_command("demo", site="http://127.0.0.1:9", stdout=io.StringIO())
    hooks = {h.credential.provider: h for h in Hook.objects.select_related("credential")}
    assert set(hooks) == {"apikley", "audiopod"} and all(h.has_secret for h in hooks.values())
    assert hooks["audiopod"].secret.reveal().startswith("whsec_")
    listed = requests.get(simulator.base_url + "/_sim/webhooks", timeout=10).json()["webhooks"]
    assert {(w["key"], w["url"]) for w in listed} == {
        (h.credential.secret.reveal(), "http://127.0.0.1:9" + h.get_absolute_url()) for h in hooks.values()
    }
