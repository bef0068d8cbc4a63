"""Debian's Chromium driven by Playwright, for the console's browser tests.

`playwright install` is never used: the browser comes from Debian (`apt-get install chromium`).
Without it the tests are skipped with a loud notice, unless DOM_REQUIRE_BROWSER=1 or CI=true.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: why browser tests were skipped in this run, for the end-of-run notice
skipped: list[str] = []


def browser_required() -> bool:
    return os.environ.get("DOM_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"


@dataclass(frozen=True)
class Site:
    base: str
    engine: Engine
    token: str


@dataclass
class Visit:
    page: Page
    requests: list[str]
    errors: list[str]


def sign_in(page: Page, site: Site) -> None:
    page.goto(site.base + "/")
    expect(page).to_have_url(site.base + "/console/login")
    page.fill("#key", site.token)
    page.click("button[type=submit]")
    expect(page).to_have_url(site.base + "/console/nodes")
