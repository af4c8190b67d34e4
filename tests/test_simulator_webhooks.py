"""The simulator's webhooks (providers/simulator/webhooks.py): signed the way Genboard's
readers check, sent once per stage, retried, and, end to end, a demo job finishing by
webhook alone."""

import functools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from history.models import Job
from hooks.models import Event
from hooks.process import process_event
from hooks.setup import hook_for
from providers import apikley, audiopod
from providers.simulator.webhooks import Dispatcher

from .factories import make_credential
from .fixtures_simulator import sim_key


class Receiver:
    """A loopback endpoint that records calls and answers the statuses it is given."""

    def __init__(self, statuses: list[int] | None = None, otherwise: int = 200):
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        self.otherwise = otherwise
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else receiver.otherwise)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/abc/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_registration_is_checked(simulator):
    url = simulator.base_url + "/_sim/webhooks"
    http = requests.Session()
    http.request = functools.partial(http.request, timeout=10)
    assert http.post(url, json={"key": sim_key("apikley"), "url": "https://example.com/x"}).status_code == 400
    assert http.post(url, json={"key": sim_key("apimall"), "url": "http://127.0.0.1:9/x"}).status_code == 400
    ok = http.post(url, json={"key": sim_key("apikley"), "url": "http://127.0.0.1:9/hooks/x/", "secret": "s"})
    assert ok.status_code == 201 and ok.json()["watched"] >= 3  # the unfinished head of the history
    listed = http.get(url).json()["webhooks"]
    assert [(w["key"], w["url"]) for w in listed] == [(sim_key("apikley"), "http://127.0.0.1:9/hooks/x/")]
    assert "secret" not in listed[0]
    assert http.delete(url).json() == {"webhooks": []}


def test_apikley_stages_are_signed_as_kie_signs_them(make_simulator, receiver):
    sim = make_simulator(new_every=0)
    dispatcher = Dispatcher(sim.world, sim.base_url)
    hmac_key = "kie-hmac-key-for-the-demo"
    registration = dispatcher.register(sim_key("apikley"), receiver.url, hmac_key)
    dispatcher.stop()
    watched = len(registration.watched)
    sim.world.clock.advance(3600)  # every watched task is finished now
    clock = Clock()
    dispatcher.tick(clock)
    assert len(receiver.calls) == watched and not registration.watched
    for headers, body in receiver.calls:
        callback = apikley.read_callback(body, headers, hmac_key, time.time(), 300)
        assert callback.signed and callback.kind in ("complete", "error")
        assert sim.world.job(sim_key("apikley"), callback.external_id) is not None
        if callback.kind == "complete":
            track = callback.body["data"]["data"][0]
            # kie's snake_case; the reseller's copy or Suno's own (source_…), as record-info has them.
            audio = track["audio_url"] or track["source_audio_url"]
            assert audio.startswith(sim.base_url) and "source_stream_audio_url" in track
    # Nothing new: nothing sent again.
    dispatcher.tick(clock)
    assert len(receiver.calls) == watched


def test_apikley_sends_each_stage_once_as_a_task_advances(make_simulator, receiver):
    sim = make_simulator(new_every=0)
    dispatcher = Dispatcher(sim.world, sim.base_url)
    dispatcher.register(sim_key("apikley"), receiver.url, "")
    dispatcher.stop()
    (task_id,) = sim.world.add_jobs(sim_key("apikley"), 1)
    clock = Clock()
    stages = []
    for _ in range(60):
        sim.world.clock.advance(5)
        dispatcher.tick(clock)
    for headers, body in receiver.calls:
        callback = apikley.read_callback(body, headers, None, time.time(), 300)
        assert "X-Webhook-Signature" not in headers  # no HMAC key: unsigned, as kie.ai does
        if callback.external_id == task_id:
            stages.append(callback.kind)
    assert stages[-1] in ("complete", "error") and len(stages) == len(set(stages))


def test_audiopod_events_are_signed_and_retried(make_simulator):
    receiver = Receiver(statuses=[500, 503])
    try:
        sim = make_simulator(new_every=0)
        dispatcher = Dispatcher(sim.world, sim.base_url)
        secret = "whsec_simulated"
        dispatcher.register(sim_key("audiopod"), receiver.url, secret)
        dispatcher.stop()
        sim.world.add_jobs(sim_key("audiopod"), 1)
        sim.world.clock.advance(3600)
        clock = Clock()
        first = dispatcher.tick(clock)
        registration = dispatcher.registrations[sim_key("audiopod")]
        assert registration.retried == 2 and registration.sent == first - 2
        clock.now += 1
        dispatcher.tick(clock)  # the first failed delivery, 1 s later: answered 200
        clock.now += 2
        dispatcher.tick(clock)  # the second, after its own second
        assert registration.sent == first and registration.failed == 0
        ids = set()
        for headers, body in receiver.calls:
            callback = audiopod.read_webhook(body, headers, secret, time.time(), 300)
            assert callback.kind in ("job.completed", "job.failed", "job.cancelled") and callback.external_id
            ids.add(callback.event_id)
        assert len(ids) == first  # retries kept their event id
    finally:
        receiver.close()


def test_a_delivery_that_keeps_failing_is_dropped_after_its_retries(make_simulator):
    receiver = Receiver(otherwise=500)
    try:
        sim = make_simulator(new_every=0)
        dispatcher = Dispatcher(sim.world, sim.base_url)
        dispatcher.register(sim_key("audiopod"), receiver.url, "whsec_x")
        dispatcher.stop()
        sim.world.add_jobs(sim_key("audiopod"), 1)
        sim.world.clock.advance(3600)
        clock = Clock()
        for _ in range(8):
            dispatcher.tick(clock)
            clock.now += 10
        registration = dispatcher.registrations[sim_key("audiopod")]
        assert registration.failed >= 1 and not dispatcher.queue
        assert len(receiver.calls) == 5 * registration.failed
    finally:
        receiver.close()


@pytest.mark.django_db(transaction=True)
def test_a_suno_job_created_at_the_simulator_arrives_by_webhook_alone(simulator, live_server, alice):
    """The demo's promise: no import, no poll. The simulator calls Genboard's receiver; the
    worker's processing asks record-info once and the job is there, finished."""
    simulator.world.new_every = 0
    credential = make_credential(alice, "apikley", secret=sim_key("apikley", "hooked"), status="ok")
    hook = hook_for(credential)
    hook.set_secret("kie-hmac-demo-key")
    hook.save()
    dispatcher = Dispatcher(simulator.world, simulator.base_url)
    url = live_server.url + hook.get_absolute_url()
    registration = dispatcher.register(sim_key("apikley", "hooked"), url, "kie-hmac-demo-key")
    dispatcher.stop()
    registration.watched.clear()  # only the task made below
    (task_id,) = simulator.world.add_jobs(sim_key("apikley", "hooked"), 1)
    simulator.world.clock.advance(3600)
    dispatcher.tick(Clock())
    events = list(Event.objects.filter(hook=hook))
    assert [e.external_id for e in events] == [task_id] and events[0].signed
    for event in events:
        process_event(event.pk)
    job = Job.objects.get(credential=credential)
    assert job.external_id == task_id and job.status in ("succeeded", "failed")
