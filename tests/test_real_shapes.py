"""The adapters, the sync and the job page against answers shaped like public captures of the
real APIs (tests/captures/, DESIGN.md "Real provider answers"): one test per quirk."""

import importlib
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
import responses
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history.importer import import_task_ids
from history.models import Job
from history.sync import store, sync_credential
from providers.apikley import Apikley
from providers.apimall import ApiMall
from providers.audiopod import AudioPod
from providers.http import ProviderError
from providers.munsit import Munsit
from tests.factories import make_credential

BASE = "https://p.test"
CAPTURES = Path(__file__).parent / "captures"
RECORD_INFO = f"{BASE}/api/v1/generate/record-info"


def capture(name: str):
    return json.loads((CAPTURES / f"{name}.json").read_text())


@pytest.fixture(autouse=True)
def _base_urls(settings):
    for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT"):
        setattr(settings, f"{name}_BASE_URL", BASE)


def task(name: str):
    responses.get(RECORD_INFO, json=capture(name))
    return Apikley("k").job(capture(name)["data"]["taskId"])


# --- Apikley (kie) ---------------------------------------------------------------------------


@responses.activate
def test_callback_exception_with_tracks_is_a_success():
    job = task("kie_record_info_callback_exception")
    assert (job.status, job.provider_status) == ("succeeded", "CALLBACK_EXCEPTION")
    assert job.error.startswith("Callback to")  # kept, shown as a note, not as the reason it failed


@responses.activate
def test_callback_exception_without_tracks_stays_failed():
    body = capture("kie_record_info_callback_exception")
    body["data"]["response"] = None
    responses.get(RECORD_INFO, json=body)
    assert Apikley("k").job("7f3c0d2a91b44e7f8a3a2b1c9d0e5f61").status == "failed"


@responses.activate
def test_task_time_and_the_model_the_user_chose():
    job = task("kie_record_info_callback_exception")
    # The task's createTime (epoch ms), not its tracks'.
    assert job.created == datetime.fromtimestamp(1763990400, UTC)
    assert job.model == "V5" and job.details["engine"] == "chirp-crow"
    assert job.details["operation"] == "generate"


@responses.activate
def test_every_track_keeps_its_id_style_and_lyrics():
    job = task("kie_record_info_callback_exception")
    tracks = [o for o in job.outputs if o.kind == "audio"]
    assert [t.ref for t in tracks] == ["0a1b2c3d-1111-4aaa-8bbb-000000000001", "0a1b2c3d-1111-4aaa-8bbb-000000000002"]
    assert {t.tags for t in tracks} == {"dark synthwave, female vocals"}
    assert tracks[0].lyrics.startswith("[Verse]") and tracks[0].as_json()["ref"] == tracks[0].ref
    assert "dark synthwave" in job.search_text and tracks[1].ref in job.search_text
    # Suno's own copy to download beside the reseller's (which is deleted after about 14 days).
    assert tracks[0].downloads == {
        "mp3": "https://tempfile.aiquickdraw.com/r/0a1b2c3d.mp3",
        "suno": "https://cdn1.suno.ai/0a1b2c3d.mp3",
    }


@responses.activate
def test_a_track_with_only_suno_urls_is_kept():
    job = task("kie_record_info_source_urls_only")
    (audio,) = [o for o in job.outputs if o.kind == "audio"]
    (cover,) = [o for o in job.outputs if o.kind == "image"]
    assert audio.url == "https://cdn1.suno.ai/9f8e7d6c.mp3"
    assert audio.stream_url == "https://audiopipe.suno.ai/?item_id=9f8e7d6c"
    assert cover.url == "https://cdn2.suno.ai/image_9f8e7d6c.jpeg"
    assert job.parent_ref == "0a1b2c3d-1111-4aaa-8bbb-000000000001" and job.details["operation"] == "extend"


def test_a_webhook_track_in_snake_case_reads_the_same():
    from providers.apikley import parse_track

    outputs = parse_track(
        {
            "id": "t1",
            "audio_url": "",
            "source_audio_url": "https://cdn1.suno.ai/t1.mp3",
            "image_url": "https://i/t1.jpeg",
        },
        0,
    )
    assert [(o.kind, o.url) for o in outputs] == [
        ("audio", "https://cdn1.suno.ai/t1.mp3"),
        ("image", "https://i/t1.jpeg"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["kie_record_info_data_null", "kie_record_info_422_recordinfo_null"])
@responses.activate
def test_a_task_not_known_yet_stays_pending_then_fails_an_hour_after_import(alice, answer):
    credential = make_credential(alice, provider="apikley", secret="kie-key-0001", status="ok")
    import_task_ids(credential, ["7f3c0d2a91b44e7f8a3a2b1c9d0e5f61"])
    responses.get(RECORD_INFO, json=capture(answer))
    assert sync_credential(credential.pk).error == ""
    job = Job.objects.get(credential=credential)
    assert job.status == "pending" and job.next_poll > timezone.now() and not job.error
    Job.objects.filter(pk=job.pk).update(
        imported=timezone.now() - timedelta(hours=1, minutes=1), next_poll=timezone.now()
    )
    sync_credential(credential.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error.startswith("Not found at Apikley") and job.next_poll is None


@pytest.mark.django_db
@responses.activate
def test_a_task_known_after_a_while_is_imported(alice):
    credential = make_credential(alice, provider="apikley", secret="kie-key-0001", status="ok")
    import_task_ids(credential, ["7f3c0d2a91b44e7f8a3a2b1c9d0e5f61"])
    responses.get(RECORD_INFO, json=capture("kie_record_info_data_null"))
    sync_credential(credential.pk)
    responses.replace(responses.GET, RECORD_INFO, json=capture("kie_record_info_callback_exception"))
    Job.objects.update(next_poll=timezone.now())
    sync_credential(credential.pk)
    job = Job.objects.get(credential=credential)
    assert job.status == "succeeded" and len([o for o in job.outputs if o["kind"] == "audio"]) == 2


@responses.activate
def test_apikley_credit_is_a_float():
    responses.get(f"{BASE}/api/v1/chat/credit", json=capture("kie_credit_float"))
    assert Apikley("k").check_key() == "237.50 credits"


# --- AudioPod --------------------------------------------------------------------------------


@responses.activate
def test_audiopod_error_cancelled_and_lowercase_statuses():
    responses.get(f"{BASE}/api/v1/music/jobs", json=capture("audiopod_jobs_real_statuses"))
    records = AudioPod("k").history_page("", 0).records
    assert [(r.status, r.provider_status) for r in records] == [
        ("succeeded", "completed"),
        ("failed", "ERROR"),
        ("canceled", "CANCELLED"),
        ("running", "processing"),
    ]
    assert not records[2].unfinished and records[3].details["progress"] == 42


@responses.activate
def test_audiopod_plays_mp3_and_offers_every_format():
    responses.get(f"{BASE}/api/v1/music/jobs", json=capture("audiopod_jobs_real_statuses"))
    done = AudioPod("k").history_page("", 0).records[0]
    (audio,) = [o for o in done.outputs if o.kind == "audio"]
    assert audio.url == "https://storage.audiopod.ai/music/35825.mp3"
    assert set(audio.downloads) == {"flac", "mp3", "wav"}
    assert done.details["quality_score"] == 0.87 and done.details["lyrics"].startswith("[00:12.40]")
    assert "Lights on the harbour" in done.search_text


@responses.activate
def test_audiopod_wallet_is_dollars():
    from providers.audiopod import wallet_balance

    responses.get(f"{BASE}/api/v1/api-wallet/balance", json=capture("audiopod_wallet"))
    assert AudioPod("k").check_key() == "Balance 25.00 USD"
    assert wallet_balance({"balance_usd": "$1,234.50"}) == Decimal("1234.50")
    assert wallet_balance({"balance_usd": "n/a"}) is None


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("audiopod_error_insufficient_balance", 402, "Insufficient API balance: this request needs $0.50"),
        ("audiopod_error_detail_object", 422, 'The score has no section "bridge"'),
    ],
)
@responses.activate
def test_audiopod_errors_say_the_human_message(name, status, words):
    responses.get(f"{BASE}/api/v1/music/jobs/1/status", status=status, json=capture(name))
    with pytest.raises(ProviderError) as e:
        AudioPod("k").job("1")
    assert words in e.value.message and "insufficient_api_balance" not in e.value.message


@responses.activate
def test_audiopod_score_first_jobs_are_music_jobs():
    responses.get(f"{BASE}/api/v1/music/v3/jobs", json=capture("audiopod_v3_jobs"))
    revise, edit = AudioPod("k").history_page("score", 0).records
    assert (revise.external_id, revise.kind, revise.status) == ("v3-4302", "music", "succeeded")
    assert revise.details["workflow"] == "revise" and revise.parent_ref == "v3-4301"
    assert revise.details["score_midi"].endswith("4302.mid") and revise.outputs == []
    assert revise.title.startswith("warm acoustic folk") and "lamp turns" in revise.prompt
    assert (edit.external_id, edit.status) == ("v3-4303", "canceled")
    responses.get(f"{BASE}/api/v1/music/v3/jobs/4302", json=capture("audiopod_v3_jobs")[0])
    assert AudioPod("k").job("v3-4302").details["note"].startswith("Changed the melody")


@pytest.mark.parametrize("status", [404, 405, 403])
@responses.activate
def test_audiopod_without_score_first_is_skipped_quietly(status):
    responses.get(f"{BASE}/api/v1/music/v3/jobs", status=status, json={"detail": "Not Found"})
    page = AudioPod("k").history_page("score", 0)
    assert page.records == [] and page.last


# --- Munsit and API Mall ---------------------------------------------------------------------


@responses.activate
def test_munsit_error_only_on_failed_jobs_and_the_input_facts():
    responses.get(f"{BASE}/api/v1/denoise", json=capture("munsit_denoise_error_on_success"))
    done, failed = Munsit("k").history_page("", 0).records
    assert done.status == "succeeded" and done.error == ""
    assert failed.error == "The uploaded file is corrupted or empty"
    assert done.details == {"input_size": 2205000, "input_format": "wav"}


@responses.activate
def test_apimall_keeps_the_upstream_source_and_cancelled():
    responses.get(f"{BASE}/api/v1/audio/history", json=capture("apimall_audio_history_source"))
    audio, canceled = ApiMall("k").history_page("audio", 0).records
    assert audio.details == {"source": "suno"} and canceled.details == {"source": "gempix2"}
    assert (canceled.status, canceled.credits_refunded) == ("canceled", Decimal(8))


@responses.activate
def test_apimall_shows_both_balances():
    responses.get(f"{BASE}/api/v1/account/balances", json=capture("apimall_balances"))
    assert ApiMall("k").check_key() == "1,250 credits · 980 API credits"


# --- stored and shown ------------------------------------------------------------------------


def stored(credential, records) -> list[Job]:
    store(credential, records)
    return list(Job.objects.filter(credential=credential).order_by("created"))


@pytest.mark.django_db
@responses.activate
def test_the_job_page_shows_tracks_model_and_lineage_both_ways(alice, alice_client):
    credential = make_credential(alice, provider="apikley", secret="kie-key-0001")
    parent_record = task("kie_record_info_callback_exception")
    responses.replace(responses.GET, RECORD_INFO, json=capture("kie_record_info_source_urls_only"))
    parent, child = stored(credential, [parent_record, Apikley("k").job("c4d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5")])
    with CaptureQueriesContext(connection) as queries:
        page = unescape(alice_client.get(parent.get_absolute_url()).content.decode())
        alice_client.get(child.get_absolute_url())
    # The lineage reads what it shows of the jobs it links (history.lineage.LINKED): no field later.
    assert not [
        q
        for q in queries.captured_queries
        if re.match(r'SELECT "history_job"\."id", "history_job"\."\w+" FROM', q["sql"])
    ]
    assert "chirp-crow" in page and ">V5" in page
    assert page.count('class="tag"') == 4 and "0a1b2c3d-1111-4aaa-8bbb-000000000002" in page
    assert "Neon rain on empty streets" in page
    assert child.get_absolute_url() in page and "(extend of track 1)" in page
    page = unescape(alice_client.get(child.get_absolute_url()).content.decode())
    assert "Extended from" in page and parent.get_absolute_url() in page and "track 1 “Neon Rain”" in page
    assert "https://cdn1.suno.ai/9f8e7d6c.mp3" in page


@pytest.mark.django_db
@responses.activate
def test_an_unknown_parent_is_named_not_linked(alice, alice_client):
    credential = make_credential(alice, provider="apikley", secret="kie-key-0001")
    (child,) = stored(credential, [task("kie_record_info_source_urls_only")])
    page = unescape(alice_client.get(child.get_absolute_url()).content.decode())
    assert "which is not in the history you can see" in page and "0a1b2c3d-1111-4aaa-8bbb-000000000001" in page


@pytest.mark.django_db
@responses.activate
def test_canceled_jobs_say_whether_credits_came_back(alice, alice_client):
    credential = make_credential(alice, provider="apimall", secret="mall-key-0001")
    responses.get(f"{BASE}/api/v1/audio/history", json=capture("apimall_audio_history_source"))
    canceled, _ = stored(credential, ApiMall("k").history_page("audio", 0).records)  # the older one
    assert canceled.finished and canceled.next_poll is None
    page = unescape(alice_client.get(canceled.get_absolute_url()).content.decode())
    assert "badge-canceled" in page and "gave the 8 credits back" in page and "gempix2" in page
    listing = alice_client.get("/history/?status=canceled").content.decode()
    assert str(canceled.code) in listing and "job-waiting" not in listing


@pytest.mark.django_db
@responses.activate
def test_tags_lyrics_and_track_ids_are_searchable(alice, alice_client):
    credential = make_credential(alice, provider="apikley", secret="kie-key-0001")
    stored(credential, [task("kie_record_info_callback_exception")])
    for term in ("female vocals", "empty streets", "000000000002"):
        response = alice_client.get("/history/", {"q": term})
        assert "Neon Rain" in response.content.decode(), term


@pytest.mark.django_db
@responses.activate
def test_the_job_page_shows_audiopod_details(alice, alice_client):
    credential = make_credential(alice, provider="audiopod", secret="ap_key_0001")
    responses.get(f"{BASE}/api/v1/music/jobs", json=capture("audiopod_jobs_real_statuses"))
    jobs = stored(credential, AudioPod("k").history_page("", 0).records)
    done = next(job for job in jobs if job.external_id == "35825")
    page = unescape(alice_client.get(done.get_absolute_url()).content.decode())
    assert 'src="https://storage.audiopod.ai/music/35825.mp3"' in page and ">FLAC<" in page
    assert "Quality score" in page and "Calling me home" in page
    running = next(job for job in jobs if job.external_id == "35828")
    assert "42%" in alice_client.get(running.get_absolute_url()).content.decode()


@pytest.mark.django_db
@responses.activate
def test_the_job_page_shows_munsit_input_facts(alice, alice_client):
    credential = make_credential(alice, provider="munsit", secret="munsit-key-0001")
    responses.get(f"{BASE}/api/v1/denoise", json=capture("munsit_denoise_error_on_success"))
    jobs = stored(credential, Munsit("k").history_page("", 0).records)
    done = next(job for job in jobs if job.status == "succeeded")
    page = unescape(alice_client.get(done.get_absolute_url()).content.decode())
    assert "Input size" in page and "2.1\xa0MB" in page and ">wav<" in page
    assert "error-h" not in page  # no "Provider note" card: only the raw record holds it


# --- the data migration ----------------------------------------------------------------------


@pytest.mark.django_db
def test_stored_jobs_are_mapped_again_from_their_raw_status(alice):
    remap = importlib.import_module("history.migrations.0006_job_canceled_details_lineage").remap
    pod = make_credential(alice, provider="audiopod", secret="ap_key_0001")
    kie = make_credential(alice, provider="apikley", secret="kie-key-0001")
    now = timezone.now()

    def job(credential, ext, raw, status, **fields):
        return Job.objects.create(
            credential=credential,
            provider=credential.provider,
            kind="music",
            external_id=ext,
            provider_status=raw,
            status=status,
            created=now,
            next_poll=now if status == "unknown" else None,
            **fields,
        )

    error = job(pod, "1", "ERROR", "unknown")
    cancelled = job(pod, "2", "CANCELLED", "unknown")
    lower = job(pod, "3", "completed", "unknown")
    odd = job(pod, "4", "MYSTERY", "unknown")
    tracks = [{"kind": "audio", "url": "https://cdn1.suno.ai/a.mp3", "position": 0}]
    with_tracks = job(kie, "a1", "CALLBACK_EXCEPTION", "failed", outputs=tracks)
    without = job(kie, "a2", "CALLBACK_EXCEPTION", "failed")
    remap(apps, None)
    got = {j.pk: (j.status, j.next_poll) for j in Job.objects.all()}
    assert got[error.pk] == ("failed", None) and got[cancelled.pk] == ("canceled", None)
    assert got[lower.pk] == ("succeeded", None) and got[odd.pk][0] == "unknown" and got[odd.pk][1]
    assert got[with_tracks.pk][0] == "succeeded" and got[without.pk][0] == "failed"


@pytest.mark.django_db
@responses.activate
def test_score_first_jobs_link_to_the_score_they_come_from(alice, alice_client):
    credential = make_credential(alice, provider="audiopod", secret="ap_key_0001")
    responses.get(f"{BASE}/api/v1/music/v3/jobs", json=capture("audiopod_v3_jobs"))
    revise, edit = stored(credential, AudioPod("k").history_page("score", 0).records)
    page = unescape(alice_client.get(edit.get_absolute_url()).content.decode())
    assert "Recorded from" in page and revise.get_absolute_url() in page
    page = unescape(alice_client.get(revise.get_absolute_url()).content.decode())
    assert "A score, not a recording" in page and "4302.mid" in page
    assert "<code>v3-4301</code>, which is not in the history you can see" in page
    assert edit.get_absolute_url() in page and "(edit)" in page
    assert "Rename" not in page and "Delete…" not in page  # AudioPod's API has neither for these
