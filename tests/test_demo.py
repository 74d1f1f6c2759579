from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from agents import agentfile, filebridge
from agents.models import Agent, Tool

DEMO_DIR = Path(__file__).resolve().parent.parent / "agents" / "demo"
DEMO_FILES = sorted(DEMO_DIR.glob("*.md"))
LOGIN_URL = "http://127.0.0.1:8000/admin/"
LOGIN_PAGE = reverse("admin:login")


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = re.search(r"with password: (\S+)", output)
    assert match, output
    return match.group(1)


@pytest.fixture(autouse=True)
def no_password_in_environment(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)


def test_there_are_several_demo_agents():
    assert len(DEMO_FILES) >= 5


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda path: path.name)
def test_demo_file_is_a_clean_agent_file(path):
    data = path.read_bytes()
    assert data.startswith(b"---\n")
    assert b"\r" not in data
    parsed = agentfile.parse(data, filename=path.name)
    assert parsed.warnings == []
    assert parsed.frontmatter["name"] == path.stem
    assert agentfile.NAME_RE.match(parsed.frontmatter["name"])


@pytest.mark.django_db
@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda path: path.name)
def test_demo_file_passes_strict_validation(path):
    parsed = agentfile.parse(path.read_bytes(), filename=path.name)
    errors, warnings = agentfile.validate(parsed.frontmatter, Tool.registry(), strict=True)
    assert errors == []
    assert warnings == []


@pytest.mark.django_db
def test_load_demo_creates_the_agents_then_a_second_run_changes_nothing():
    first = load_demo()
    assert first.count("created: ") == len(DEMO_FILES)
    stamps = dict(Agent.objects.values_list("name", "updated_at"))
    assert set(stamps) == {path.stem for path in DEMO_FILES}

    second = load_demo()
    assert second.count("unchanged: ") == len(DEMO_FILES)
    assert "created: " not in second
    assert dict(Agent.objects.values_list("name", "updated_at")) == stamps


@pytest.mark.django_db
@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda path: path.name)
def test_demo_agent_exports_to_its_file_byte_for_byte(path):
    load_demo()
    agent = Agent.objects.get(name=path.stem)
    assert filebridge.render(agent).encode() == path.read_bytes()


@pytest.mark.django_db
def test_demo_agents_cover_the_parts_of_the_format():
    load_demo()
    agents = {agent.name: agent for agent in Agent.objects.for_export()}
    tools = {name: filebridge.tool_names(agent) for name, agent in agents.items()}
    assert any(agent.steps.count() >= 3 for agent in agents.values()), "numbered steps"
    assert any(t.startswith("mcp__") for names in tools.values() for t in names), "MCP tools"
    assert any(t.startswith("Agent(") for names in tools.values() for t in names), "Agent(...)"
    assert any(agent.hooks and agent.skills and agent.max_turns for agent in agents.values())
    assert any(agent.extra_frontmatter for agent in agents.values()), "unknown keys kept"
    assert any(filebridge.render(agent).count('description: "') for agent in agents.values()), (
        "quoted"
    )
    assert any(agent.key_order == ["name", "description"] for agent in agents.values()), "minimal"


@pytest.mark.django_db
def test_an_agent_edited_in_the_portal_is_kept_unless_update_is_asked_for():
    load_demo()
    Agent.objects.filter(name="researcher").update(description="Edited by hand.")

    output = load_demo()
    assert "kept: demo/researcher.md (researcher)" in output
    assert Agent.objects.get(name="researcher").description == "Edited by hand."

    load_demo("--update")
    agent = Agent.objects.get(name="researcher")
    assert filebridge.render(agent).encode() == (DEMO_DIR / "researcher.md").read_bytes()


@pytest.mark.django_db
def test_admin_password_comes_from_the_environment_when_set(monkeypatch, django_user_model):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct-horse-battery-staple")
    output = load_demo()

    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("correct-horse-battery-staple")
    assert "correct-horse-battery-staple" not in output
    assert LOGIN_URL in output


@pytest.mark.django_db
def test_admin_password_is_random_printed_once_and_logs_in(client, django_user_model):
    output = load_demo()
    password = printed_password(output)
    assert LOGIN_URL in output
    assert len(password) >= 20
    admin_index = reverse("admin:index")
    signed_in = client.post(
        LOGIN_PAGE, {"username": "admin", "password": password, "next": admin_index}
    )
    assert (signed_in.status_code, signed_in["Location"]) == (302, admin_index)

    assert password not in load_demo()

    django_user_model.objects.all().delete()
    assert printed_password(load_demo()) != password


@pytest.mark.django_db
def test_an_existing_admin_keeps_its_password(monkeypatch, django_user_model):
    django_user_model.objects.create_superuser("admin", "admin@example.com", "my-own-pass-1")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "something-else-entirely")

    output = load_demo()

    assert "user 'admin' exists; its password is unchanged" in output
    assert "superuser 'admin' with password" not in output
    assert django_user_model.objects.get(username="admin").check_password("my-own-pass-1")


@pytest.mark.django_db
def test_no_admin_account_is_added_when_another_superuser_exists(django_user_model):
    django_user_model.objects.create_superuser("alice", "alice@example.com", "alice-pass-1")

    output = load_demo()

    assert "superuser 'alice' exists" in output
    assert not django_user_model.objects.filter(username="admin").exists()
    assert set(Agent.objects.values_list("owner__username", flat=True)) == {"alice"}


def test_load_demo_creates_an_author_and_a_reviewer_once_with_random_passwords(
    django_user_model, monkeypatch
):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    first = StringIO()
    call_command("load_demo", stdout=first)
    passwords = dict(
        re.findall(r"created user '(\w+)' \(\w+\) with password: (\S+)", first.getvalue())
    )

    assert set(passwords) == {"author", "reviewer"}
    assert passwords["author"] != passwords["reviewer"]
    author = django_user_model.objects.get(username="author")
    reviewer = django_user_model.objects.get(username="reviewer")
    assert author.check_password(passwords["author"]) and author.is_staff
    assert list(author.groups.values_list("name", flat=True)) == ["Authors"]
    assert list(reviewer.groups.values_list("name", flat=True)) == ["Reviewers"]

    again = StringIO()
    call_command("load_demo", stdout=again)
    assert "user 'author' exists; its password is unchanged" in again.getvalue()
    author.refresh_from_db()
    assert author.check_password(passwords["author"])
