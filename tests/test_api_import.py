"""Importing through the API: .md files and zips, a dry run that saves nothing, all or nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from rest_framework.test import APIClient

from agents.models import Agent

from .factories import AgentFactory

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def agent_file(name: str, description: str = "Imported through the API.") -> bytes:
    return f"---\nname: {name}\ndescription: {description}\n---\n\nYou help.\n".encode()


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_a_dry_run_reports_outcomes_and_diffs_and_saves_nothing(author):
    AgentFactory(name="existing", owner=author, published=True)
    response = signed_in(author).post(
        "/api/import/",
        {
            "files": [
                upload("new-one.md", agent_file("new-one")),
                upload("existing.md", agent_file("existing", "Changed. Use proactively.")),
            ],
            "update": "true",
            "dry_run": "true",
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["saved"] is False
    assert [(r["source"], r["outcome"]) for r in body["results"]] == [
        ("new-one.md", "created"),
        ("existing.md", "updated"),
    ]
    assert "+description: Changed. Use proactively." in body["results"][1]["diff"]
    assert not Agent.objects.filter(name="new-one").exists()


def test_a_zip_is_imported_and_the_agents_are_the_callers(author):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(".claude/agents/one.md", agent_file("one"))
        zipped.writestr(".claude/agents/two.md", agent_file("two"))
    response = signed_in(author).post(
        "/api/import/", {"files": [upload("agents.zip", archive.getvalue())]}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["saved"] is True
    assert set(Agent.objects.filter(owner=author).values_list("name", flat=True)) == {"one", "two"}


def test_one_refused_file_saves_none(author):
    response = signed_in(author).post(
        "/api/import/",
        {
            "files": [
                upload("good.md", agent_file("good")),
                upload("bad.md", b"---\nname: bad\n---\nno description\n"),
            ]
        },
        format="multipart",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("Nothing was imported")
    bad = body["results"][1]
    assert bad["outcome"] == "error" and bad["error"]
    assert not Agent.objects.filter(name__in=["good", "bad"]).exists()


def test_a_file_that_is_not_an_agent_is_refused_saying_why(author):
    response = signed_in(author).post(
        "/api/import/", {"files": [upload("notes.txt", b"hello")]}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "files"
    assert "notes.txt" in response.json()["detail"]
