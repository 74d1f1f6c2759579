"""The API's interactive docs in a real browser: Swagger UI from the portal's own static files,
under the Content-Security-Policy (the ``page`` fixture fails on any violation), and "Try it
out" works with the signed-in session."""

from __future__ import annotations

import pytest

from .browser import log_in
from .factories import AgentFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migrated_data"),
]


def test_the_docs_list_every_endpoint_and_try_one_with_the_session(page, reader):
    AgentFactory(name="tried-out", published=True)
    log_in(page, "reader", "pw-reader-1")
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/docs/")
    page.get_by_text("Agent Portal API").first.wait_for()
    operations = page.locator(".opblock-summary-path")
    operations.first.wait_for()
    paths = set(operations.all_inner_texts())
    assert {"/api/agents/", "/api/agents/{name}/", "/api/import/", "/api/events/"} <= {
        path.replace("\u200b", "") for path in paths
    }
    # nothing from another origin: Swagger UI is served by the portal
    assert all(url.startswith(page.url.split("/api/")[0]) for url in requested)

    page.locator("#operations-tools-tools_list .opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
