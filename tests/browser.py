"""Browser tests' tools: Debian's Chromium driven by Playwright against the live test server.

CI installs Chromium (``.ci/run``) and sets AGENTPORTAL_REQUIRE_BROWSER, so a missing browser
fails the run there; elsewhere the tests skip, saying why. Use the ``page`` fixture (from
``tests/conftest.py``), ``log_in`` for the portal's sign-in page, and ``screenshot`` to save a
picture of a page under ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Closed network here: without these Chromium keeps trying to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_page(live_server: Any) -> Iterator[Any]:
    if CHROMIUM is None:
        reason = "Chromium is not installed (apt-get install chromium); .ci/run installs it"
        if os.environ.get("AGENTPORTAL_REQUIRE_BROWSER"):
            pytest.fail(reason)  # CI must not pass by skipping the browser
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are plain synchronous code all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        # Anything the Content-Security-Policy blocked (an inline script, a style attribute, a
        # third-party origin) is a bug of the page: the test fails with it.
        # So is an htmx swap that found no place on the page, or a script that failed.
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text)
                if "Content Security Policy" in message.text or message.text.startswith("htmx:")
                else None
            ),
        )
        page.on("pageerror", lambda error: refused.append(f"script error: {error}"))
        yield page
        browser.close()
        if refused:
            pytest.fail(
                "the page broke its Content-Security-Policy or its scripts:\n" + "\n".join(refused)
            )
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def log_in_admin(page: Any, username: str, password: str) -> None:
    """Sign in on the admin's sign-in page."""
    page.goto(reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def log_in(page: Any, username: str, password: str) -> None:
    """Sign in on the portal's sign-in page, as a person does, and wait for the home page."""
    page.goto(reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{reverse('home')}")


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as docs/screenshots/<name>.png (committed, shown in the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
