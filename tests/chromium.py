"""Debian's headless Chromium, as the browser tests and docs/screenshots.py launch it.

Playwright cannot download a browser here; these flags keep Chromium off the network (this
machine refuses its background connections) and working as root in a container.
"""

import shutil

PATH = shutil.which("chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def launch(playwright):
    return playwright.chromium.launch(executable_path=PATH, args=ARGS)
