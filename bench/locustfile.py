"""People using Genboard's history, for Locust (bench/load_bench.py starts it; see there).

Each simulated person logs in as one of LOAD_PEOPLE (comma-separated usernames, one person
each), opens the full history page, then scrolls (the "Load more" fragment), filters and
searches (the results fragment), opens jobs, fetches the page's static files and, a few of
them once, exports. LOAD_MIX=history leaves out static files and exports (to measure the CPU
of history requests alone). Every request says it came through the TLS proxy.
"""

import csv
import itertools
import os
import random
import re
import threading
import time

from locust import FastHttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "bench-pass-2026")
PEOPLE = os.environ.get("LOAD_PEOPLE", "big").split(",")
EXPORTERS = set(os.environ.get("LOAD_EXPORTERS", "").split(","))
HISTORY_ONLY = os.environ.get("LOAD_MIX") == "history"
PROXY = {"X-Forwarded-Proto": "https"}
HX = {**PROXY, "HX-Request": "true"}
FILTER = {**HX, "HX-Target": "history-results"}

MORE = re.compile(r'hx-get="(/history/\?[^"]*cursor=[^"]*)"')
JOB = re.compile(r'href="(/history/[0-9a-f-]{36}/)"')
STATIC = re.compile(r'(?:href|src)="(/static/[^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
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
            self.username = PEOPLE[next(_next_person) % len(PEOPLE)]
        self.exports = 1 if self.username in EXPORTERS and not HISTORY_ONLY else 0
        login = self.client.get("/accounts/login/", headers=PROXY, name="log-in")
        token = CSRF.search(login.text).group(1)
        referer = f"https://{self.host.split('://', 1)[1]}/accounts/login/"
        self.client.post(
            "/accounts/login/",
            data={"login": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={**PROXY, "Referer": referer},
            name="log-in",
        )
        # The cookies are Secure (production): the proxy's TLS is not here, so send them anyway.
        for cookie in self.client.cookiejar:
            cookie.secure = False
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
        response = self.client.get("/history/", headers=PROXY, name="full page")
        self.remember(response.text)
        self.static = sorted(set(STATIC.findall(response.text))) or self.static

    @task(8)
    def next_page(self):
        if not self.next_url:
            return self.full_page()
        response = self.client.get(self.next_url, headers=HX, name="next page")
        self.remember(response.text)

    @task(3)
    def filter_results(self):
        response = self.client.get(f"/history/?{random.choice(FILTERS)}", headers=FILTER, name="filter")
        self.remember(response.text)

    @task(2)
    def search(self):
        response = self.client.get(f"/history/?q={random.choice(WORDS)}", headers=FILTER, name="search")
        self.remember(response.text)

    @task(3)
    def job_page(self):
        if self.jobs:
            self.client.get(random.choice(self.jobs), headers=PROXY, name="job page")

    @task(2)
    def static_file(self):
        if self.static and not HISTORY_ONLY:
            self.client.get(random.choice(self.static), headers=PROXY, name="static")

    @task(1)
    def export(self):
        if self.exports:
            self.exports -= 1
            self.client.get("/history/export.csv?status=failed", headers=PROXY, name="export")
