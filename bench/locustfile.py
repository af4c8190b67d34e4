"""People using Genboard's history, for Locust (bench/load_bench.py starts it; see there).

Each simulated person is one of LOAD_SESSIONS (already logged in): opens the full history
page, then scrolls (the "Load more" fragment), filters and searches (the results fragment),
opens jobs, fetches the page's static files and, a few of them once, exports.
LOAD_MIX=history leaves out static files and exports (to measure the CPU of history
requests alone). Every request says it came through the TLS proxy.
"""

import csv
import itertools
import os
import random
import re
import threading
import time

from locust import FastHttpUser, between, events, task

# "username:session key" pairs, one person each: bench/load_bench.py logs them in beforehand
# (a log-in's CPU is bench/login_bench.py's business, and allauth limits log-ins per address).
PEOPLE = [pair.split(":", 1) for pair in os.environ["LOAD_SESSIONS"].split(",")]
EXPORTERS = set(os.environ.get("LOAD_EXPORTERS", "").split(","))
HISTORY_ONLY = os.environ.get("LOAD_MIX") == "history"

MORE = re.compile(r'hx-get="(/history/\?[^"]*cursor=[^"]*)"')
JOB = re.compile(r'href="(/history/[0-9a-f-]{36}/)"')
STATIC = re.compile(r'(?:href|src)="(/static/[^"]+)"')
WORDS = ["piano", "midnight", "drive", "jazz", "interview", "summer", "cello", "neon", "podcast", "ocean"]
FILTERS = [
    "status=failed",
    "status=succeeded",
    "provider=audiopod",
    "provider=apimall",
    "kind=image",
    "status=succeeded&provider=apikley",
]

_next_person = itertools.count()
_lock = threading.Lock()
# Every request (end time, group, ms, failed), written to LOAD_OUT when Locust stops, so the
# runner computes percentiles and CPU per request over exactly the requests it counts.
_log: list[tuple[float, str, float, bool]] = []


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    _log.append((time.time(), name, response_time, exception is not None))


@events.quitting.add_listener
def _write(environment, **kwargs):
    if out := os.environ.get("LOAD_OUT"):
        with open(out, "w", newline="") as f:
            csv.writer(f).writerows(_log)


class Person(FastHttpUser):
    wait_time = between(0.1, 0.3)

    def on_start(self):
        with _lock:
            self.username, session = PEOPLE[next(_next_person) % len(PEOPLE)]
        self.exports = 1 if self.username in EXPORTERS and not HISTORY_ONLY else 0
        # Every request came through the TLS proxy; the session cookie is sent by hand, as
        # the cookie jar keeps a Secure cookie for HTTPS, which the proxy's side of this is not.
        self.page = {"X-Forwarded-Proto": "https", "Cookie": f"sessionid={session}"}
        self.hx = {**self.page, "HX-Request": "true"}
        self.results = {**self.hx, "HX-Target": "history-results"}
        self.next_url, self.jobs, self.static = "", [], []
        self.full_page()

    def remember(self, text: str) -> None:
        more = MORE.findall(text)
        self.next_url = more[-1] if more else ""
        jobs = JOB.findall(text)
        if jobs:
            self.jobs = jobs[-60:]

    @task(2)
    def full_page(self):
        response = self.client.get("/history/", headers=self.page, name="full page")
        self.remember(response.text)
        self.static = sorted(set(STATIC.findall(response.text))) or self.static

    @task(8)
    def next_page(self):
        if not self.next_url:
            return self.full_page()
        response = self.client.get(self.next_url, headers=self.hx, name="next page")
        self.remember(response.text)

    @task(3)
    def filter_results(self):
        response = self.client.get(f"/history/?{random.choice(FILTERS)}", headers=self.results, name="filter")
        self.remember(response.text)

    @task(2)
    def search(self):
        response = self.client.get(f"/history/?q={random.choice(WORDS)}", headers=self.results, name="search")
        self.remember(response.text)

    @task(3)
    def job_page(self):
        if self.jobs:
            self.client.get(random.choice(self.jobs), headers=self.page, name="job page")

    @task(2)
    def static_file(self):
        if self.static and not HISTORY_ONLY:
            self.client.get(random.choice(self.static), headers=self.page, name="static")

    @task(1)
    def export(self):
        if self.exports:
            self.exports -= 1
            self.client.get("/history/export.csv?status=failed", headers=self.page, name="export")
