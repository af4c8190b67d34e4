"""Make the README's screenshots from demo-like data, with the provider simulator and headless Chromium.

    .venv/bin/python docs/screenshots.py            # docs/screenshots/: history, job, history-table, history-phone
    .venv/bin/python docs/screenshots.py --all DIR  # also phone sizes and more pages, into DIR
    .venv/bin/python docs/screenshots.py --all DIR --dark  # the same in the dark colour scheme

Everything runs on loopback: a throwaway SQLite database, the simulator (in this process),
`manage.py runserver` (a child process) and Debian's Chromium driven by Playwright.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import chromium  # noqa: E402  (the project's root is on the path from here)

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "screenshots-2026"  # noqa: S105 (the demo user of a throwaway database)
DESKTOP = {"width": 1280, "height": 900}
# The README's pictures: taller, so the history shows its rows and the job page its players.
README = {"width": 1280, "height": 1240}
PHONE = {"width": 390, "height": 844}
# The dense table layout, at the size issue 14 asks it to show 20 jobs above the fold.
TABLE = {"width": 1440, "height": 900}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator():
    from providers.simulator import FakeClock, SimulatorServer, World

    world = World(FakeClock(), rate_limits=False, new_every=0)
    world.sse_interval = 0.01
    return SimulatorServer(world).start()


def seed(simulator) -> str:
    """Maya with a key per provider (one shared with her team) and Theo's shared Munsit key;
    returns the code of a finished AudioPod song with timed lyrics for the job page."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from history.models import Job
    from history.sync import sync_credential
    from providers.models import Credential
    from teams.models import Member, Share, Team

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    maya = users.create_user("maya", "maya@example.test", PASSWORD)
    theo = users.create_user("theo", "theo@example.test", PASSWORD)
    users.create_user("newcomer", "newcomer@example.test", PASSWORD)  # no keys yet: the welcome
    team = Team.objects.create(name="Studio North", slug="studio-north")
    Member.objects.create(team=team, user=maya, role=Member.Role.OWNER)
    Member.objects.create(team=team, user=theo, role=Member.Role.MEMBER)

    def key(owner, provider, label, secret):
        credential = Credential(owner=owner, provider=provider, label=label)
        credential.set_secret(secret)
        credential.save()
        return credential

    keys = [
        key(maya, "audiopod", "AudioPod studio", "sim-audiopod-maya-score-n400"),
        key(maya, "apimall", "API Mall", "sim-apimall-maya-n500"),
        key(maya, "munsit", "Podcast cleanup", "sim-munsit-maya-n200"),
        key(theo, "munsit", "Theo’s Munsit", "sim-munsit-theo-n150"),
    ]
    Share.objects.create(team=team, credential=keys[3], shared_by=theo)
    suno = key(maya, "apikley", "Suno via Apikley", "sim-apikley-maya")
    task_ids = simulator.world.task_ids("sim-apikley-maya")[:30]
    now = suno.created
    fields = {"credential": suno, "provider": "apikley", "kind": "music", "status": "pending"}
    Job.objects.bulk_create([Job(**fields, external_id=t, created=now, next_poll=now) for t in task_ids])
    for credential in [*keys, suno]:
        sync_credential(credential.pk)
    # A few minutes later most of what was running has finished: look again, as the worker would.
    simulator.world.clock.advance(150)
    Job.objects.filter(next_poll__isnull=False).update(next_poll=now)
    for credential in [*keys, suno]:
        sync_credential(credential.pk)
    songs = Job.objects.filter(credential=keys[0], status="succeeded").order_by("-created")[:50]
    return str(next(song.code for song in songs if song.raw.get("lrc_content")))


def log_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/history/")
    page.reload()  # times in the browser's zone from now on (genboard.js set the cookie)
    page.wait_for_load_state("networkidle")


def snap(page, path: Path, everything: bool) -> None:
    """The first screenful; with --all also the next one, to look at more rows closely."""
    page.screenshot(path=path)
    if everything:
        height = page.viewport_size["height"]
        page.mouse.wheel(0, height - 100)
        page.wait_for_timeout(300)
        page.screenshot(path=path.with_name(path.stem + "-2.png"))
        page.mouse.wheel(0, -height)


def shoot(base: str, job_code: str, out: Path, everything: bool, scheme: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = chromium.launch(p)
        sizes = [("", DESKTOP), ("-phone", PHONE)] if everything else [("", README)]
        for suffix, viewport in sizes:
            context = browser.new_context(
                viewport=viewport, device_scale_factor=1, timezone_id="Europe/Berlin", color_scheme=scheme
            )
            page = context.new_page()
            log_in(page, base, "maya")
            snap(page, out / f"history{suffix}.png", everything)
            page.goto(f"{base}/history/{job_code}/")
            page.wait_for_load_state("networkidle")
            snap(page, out / f"job{suffix}.png", everything)
            if everything:
                pages = {
                    "filtered": "/history/?status=failed&provider=audiopod",
                    "denoise": "/history/?kind=denoise",
                    "images": "/history/?kind=image",
                    "nomatch": "/history/?q=no-such-thing-anywhere",
                    "badfilter": "/history/?status=bogus&created_after=yesterday",
                    "keys": "/keys/",
                }
                for name, path in pages.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    snap(page, out / f"{name}{suffix}.png", everything)
                # "More filters", whose fields come when it is first opened.
                page.goto(base + "/history/")
                page.click("summary:has-text('More filters')")
                page.wait_for_selector("#id_kind")
                snap(page, out / f"more-filters{suffix}.png", everything)
                for name, query in {
                    "denoise": "kind=denoise&status=succeeded",
                    "image": "kind=image&status=succeeded",
                    "audio": "kind=audio&status=succeeded",
                    "audiopod-failed": "provider=audiopod&status=failed",
                    "audiopod": "provider=audiopod&status=succeeded",
                }.items():
                    page.goto(f"{base}/history/?{query}")
                    page.click("#rows .job-title a")
                    page.wait_for_load_state("networkidle")
                    snap(page, out / f"job-{name}{suffix}.png", everything)
                page.click("text=Delete at AudioPod…")
                page.wait_for_load_state("networkidle")
                snap(page, out / f"delete{suffix}.png", everything)
                page.go_back()
                page.click("text=Remove from Genboard…")
                page.wait_for_load_state("networkidle")
                snap(page, out / f"remove{suffix}.png", everything)
                page.goto(base + "/keys/")
                page.click("table a.strong")
                page.wait_for_load_state("networkidle")
                snap(page, out / f"key{suffix}.png", everything)
                log_in(page, base, "newcomer")
                snap(page, out / f"welcome{suffix}.png", everything)
            context.close()
        shoot_layouts(browser, base, out, everything, scheme)
        browser.close()


def shoot_layouts(browser, base: str, out: Path, everything: bool, scheme: str) -> None:
    """The history in the table layout at 1440×900 (chosen with its toggle, as a person
    would), and on a phone in the cards layout (with --all, in the table's too)."""
    shots = [("history-table", TABLE, "table"), ("history-phone", PHONE, "cards")]
    if everything:
        shots.append(("history-table-phone", PHONE, "table"))
    for name, viewport, layout in shots:
        context = browser.new_context(
            viewport=viewport, device_scale_factor=1, timezone_id="Europe/Berlin", color_scheme=scheme
        )
        page = context.new_page()
        log_in(page, base, "maya")
        page.click(f"button[name=layout][value={layout}]")
        page.wait_for_load_state("networkidle")
        if viewport is PHONE:
            # On a phone the filters fill the first screen: start at the list, under the top bar.
            page.evaluate(
                "window.scrollTo(0, document.querySelector('.results-bar').getBoundingClientRect().top"
                " + window.scrollY - document.querySelector('.topbar').offsetHeight - 12)"
            )
            page.wait_for_timeout(300)
        page.screenshot(path=out / f"{name}.png")
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", metavar="DIR", help="also phone sizes and more pages, into DIR")
    parser.add_argument("--dark", action="store_true", help="the dark colour scheme")
    args = parser.parse_args()
    if not chromium.PATH:
        sys.exit("Chromium is not installed (apt-get install chromium).")
    out = Path(args.all) if args.all else OUT
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="genboard-shots-"))
    simulator = start_simulator()
    env = {
        "DEBUG": "1",
        "SECRET_KEY": "screenshots-" + "s" * 50,
        "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
        "GENBOARD_VAR_DIR": str(tmp),
        "CREDENTIAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **{f"{name}_BASE_URL": simulator.base_url for name in ("APIMALL", "APIKLEY", "AUDIOPOD", "MUNSIT")},
    }
    os.environ.update(env)
    import django

    django.setup()
    job_code = seed(simulator)
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/accounts/login/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        shoot(base, job_code, out, bool(args.all), "dark" if args.dark else "light")
    finally:
        server.terminate()
        server.wait()
        simulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"Screenshots in {out}")


if __name__ == "__main__":
    main()
