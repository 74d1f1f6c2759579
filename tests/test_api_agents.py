"""The API's agents: the catalog's search and filters, cursor pages, what each caller sees,
updates guarded by If-Match, and errors as JSON."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis
from django.core.management import call_command
from django.urls import path
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.views import APIView

from agents import filebridge, tokens, workflow
from agents.models import AccessToken, Agent

from .factories import AgentFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


def test_the_list_searches_and_filters_as_the_catalog_does(reader, author):
    AgentFactory(name="shell-runner", tools=5, owner=author, published=True)  # ... Bash
    AgentFactory(name="reader-only", tools=2, published=True)  # Read, Grep
    AgentFactory(name="unpublished", tools=5, owner=author)
    client = signed_in(reader)

    assert names(client.get("/api/agents/")) == ["reader-only", "shell-runner"]
    assert names(client.get("/api/agents/", {"tool": "Bash"})) == ["shell-runner"]
    assert names(client.get("/api/agents/", {"owner": "author"})) == ["shell-runner"]
    assert names(client.get("/api/agents/", {"q": "reader-only"})) == ["reader-only"]
    # the author sees their draft too, with its state
    mine = signed_in(author).get("/api/agents/", {"state": "draft"}).json()["results"]
    assert [(row["name"], row["state"]) for row in mine] == [("unpublished", "draft")]


def test_a_bad_filter_is_a_400_naming_it(reader):
    response = signed_in(reader).get("/api/agents/", {"sort": "price"})
    assert response.status_code == 400
    assert response.json()["field"] == "sort"


def test_walking_the_cursor_pages_sees_every_agent_once(reader):
    for n in range(7):
        AgentFactory(name=f"walk-{n}", published=True)
    client = signed_in(reader)
    for sort in ("name", "changed", "newest"):
        seen, url = [], f"/api/agents/?page_size=3&sort={sort}"
        while url:
            page = client.get(url).json()
            seen += [row["name"] for row in page["results"]]
            url = page["next"]
        assert sorted(seen) == [f"walk-{n}" for n in range(7)], sort
        assert len(seen) == 7


def test_a_reader_sees_the_published_file_never_the_draft(reader, author):
    agent = AgentFactory(name="evolving", owner=author, published=True)
    agent.description = "A secret draft description. Use proactively."
    agent.save()
    workflow.record_revision(agent, author)

    seen = signed_in(reader).get("/api/agents/evolving/")
    assert seen.status_code == 200
    assert seen.json()["state"] == "published"
    assert "secret" not in seen.content.decode()
    assert seen["ETag"] == '"r1"'
    mine = signed_in(author).get("/api/agents/evolving/")
    assert mine.json()["description"].startswith("A secret draft")
    assert mine.json()["latest_revision"] == 2
    assert mine["ETag"] == '"r2"'


def test_an_update_without_if_match_is_refused_with_428(author):
    AgentFactory(name="guarded", owner=author, published=True)
    response = signed_in(author).patch("/api/agents/guarded/", {"model": "opus"}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert Agent.objects.get(name="guarded").model == "sonnet"


def test_a_stale_if_match_gets_412_with_the_current_revision_and_a_diff(author, other_author):
    agent = AgentFactory(name="shared", owner=author, published=True)
    agent.maintainers.add(other_author)
    first = signed_in(author).get("/api/agents/shared/")["ETag"]
    theirs = signed_in(other_author).patch(
        "/api/agents/shared/", {"model": "opus"}, format="json", headers={"If-Match": first}
    )
    assert theirs.status_code == 200

    mine = signed_in(author).patch(
        "/api/agents/shared/", {"color": "red"}, format="json", headers={"If-Match": first}
    )
    assert mine.status_code == 412
    body = mine.json()
    assert body["current_revision"] == 2
    assert "+model: opus" in body["diff"]
    saved = Agent.objects.get(name="shared")
    assert (saved.color, saved.model) == ("blue", "opus")  # nothing of the stale update


def test_tools_sections_and_steps_are_saved_in_the_order_sent(author):
    AgentFactory(name="ordered", owner=author, published=True)
    client = signed_in(author)
    response = client.patch(
        "/api/agents/ordered/",
        {
            "tools": ["Grep", "Read", "Bash"],
            "sections": [
                {"kind": "markdown", "markdown": "You check things.\n\n## Steps\n\n"},
                {"kind": "steps"},
                {"kind": "markdown", "markdown": "\nBe brief.\n"},
            ],
            "steps": [{"title": "Second", "text": "B."}, {"title": "", "text": "A."}],
        },
        format="json",
        headers={"If-Match": '"r1"'},
    )
    assert response.status_code == 200, response.json()
    text = filebridge.render(Agent.objects.for_export().get(name="ordered"))
    assert "tools: Grep, Read, Bash\n" in text
    assert text.endswith("## Steps\n\n1. **Second**: B.\n\n2. A.\n\nBe brief.\n")
    assert client.get("/api/agents/ordered/file?draft=1").content.decode() == text


def test_a_value_the_format_refuses_is_a_400_naming_the_field(author):
    AgentFactory(name="strict", owner=author, published=True)
    response = signed_in(author).patch(
        "/api/agents/strict/", {"color": "mauve"}, format="json", headers={"If-Match": '"r1"'}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "color"
    assert Agent.objects.get(name="strict").color == "blue"
    assert Agent.objects.get(name="strict").revisions.count() == 1


def test_a_name_another_agent_has_is_refused(author):
    AgentFactory(name="taken", published=True)
    response = signed_in(author).post(
        "/api/agents/", {"name": "taken", "description": "Again. Use proactively."}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "name"
    assert Agent.objects.filter(name="taken").count() == 1


def test_an_agent_in_review_cannot_be_changed_409(author):
    agent = AgentFactory(name="waiting", owner=author)
    workflow.transition(agent, "submit", author)
    response = signed_in(author).patch(
        "/api/agents/waiting/", {"model": "opus"}, format="json", headers={"If-Match": '"r1"'}
    )
    assert response.status_code == 409
    assert "withdraw it" in response.json()["detail"]


def test_approving_a_revision_that_is_no_longer_the_latest_publishes_nothing(author, reviewer):
    agent = AgentFactory(name="moving", owner=author)
    workflow.transition(agent, "submit", author)
    workflow.transition(agent, "withdraw", author)
    agent.model = "opus"
    agent.save()
    workflow.record_revision(agent, author)
    workflow.transition(agent, "submit", author)
    response = signed_in(reviewer).post(
        "/api/agents/moving/approve", {"revision": 1}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current_revision"] == 2
    assert "+model: opus" in response.json()["diff"]
    assert Agent.objects.get(name="moving").published_revision is None


def test_request_changes_needs_a_comment(author, reviewer):
    agent = AgentFactory(name="commented", owner=author)
    workflow.transition(agent, "submit", author)
    response = signed_in(reviewer).post("/api/agents/commented/request-changes", {}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "comment"
    assert Agent.objects.get(name="commented").status == "in_review"


def test_the_diff_between_two_revisions(author):
    agent = AgentFactory(name="diffed", owner=author, published=True)
    agent.model = "opus"
    agent.save()
    workflow.record_revision(agent, author)
    response = signed_in(author).get("/api/agents/diffed/diff", {"from": 1, "to": 2})
    assert response.status_code == 200
    assert "-model: sonnet\n+model: opus\n" in response.content.decode()
    bad = signed_in(author).get("/api/agents/diffed/diff", {"from": "x", "to": 2})
    assert bad.status_code == 400
    assert bad.json()["field"] == "from"


def test_errors_are_json_even_for_addresses_that_are_no_endpoint(reader):
    client = signed_in(reader)
    for url in ("/api/nothing-here/", "/api/agents/no-such-agent/", "/api/agents/x/y/z"):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["detail"]


class Broken(APIView):
    def get(self, request):
        raise RuntimeError("a bug")


urlpatterns = [path("api/broken/", Broken.as_view())]


@pytest.mark.urls(__name__)
def test_a_server_error_is_json_too(reader):
    client = signed_in(reader)
    client.raise_request_exception = False
    response = client.get("/api/broken/")
    assert response.status_code == 500
    assert response.json()["detail"].startswith("The server failed")


def test_a_session_needs_the_csrf_token_to_change_anything(author):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(author)
    response = client.post(
        "/api/agents/", {"name": "no-csrf", "description": "No. Use proactively."}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Agent.objects.filter(name="no-csrf").exists()


def test_an_expired_token_is_refused_saying_why(reader):
    token, secret = tokens.create(reader, "old", 30)
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(days=1))
    response = APIClient().get("/api/agents/", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_read_token_cannot_change_anything(author):
    _, secret = tokens.create(author, "read", 30, AccessToken.Scope.READ)
    response = APIClient().post(
        "/api/agents/",
        {"name": "by-read-token", "description": "No. Use proactively."},
        format="json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 403
    assert "only read" in response.json()["detail"]


def test_requests_past_the_rate_are_throttled_per_token_and_per_user(settings, reader):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "4/minute", "token": "2/minute"},
    }
    _, first = tokens.create(reader, "first", 30)
    _, second = tokens.create(reader, "second", 30)

    def get(secret):
        return APIClient().get("/api/tools/", headers={"Authorization": f"Bearer {secret}"})

    # the first token's own allowance runs out (the request still counts for the person)
    assert [get(first).status_code for _ in range(2)] == [200, 200]
    throttled = get(first)
    assert throttled.status_code == 429
    assert "throttled" in throttled.json()["detail"].lower()
    assert int(throttled["Retry-After"]) > 0
    # another token has its own, until the person's 4 are used, whichever way they come
    assert get(second).status_code == 200
    assert signed_in(reader).get("/api/tools/").status_code == 429
    assert get(second).status_code == 429


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/0").ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_reachable(), reason="no Redis server on 127.0.0.1:6379")
def test_with_cache_url_redis_the_throttles_count_in_redis(settings, reader):
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "2/minute", "token": "100/minute"},
    }
    client = signed_in(reader)
    assert [client.get("/api/tools/").status_code for _ in range(3)] == [200, 200, 429]
    server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = server.keys(f"{prefix}:*throttle_user*")
    assert keys, "the count is in Redis, where every app server reads it"
    server.delete(*keys)


def test_the_schema_is_valid_openapi_and_generates_without_warnings(tmp_path):
    # --fail-on-warn: an endpoint, parameter or answer the schema cannot describe fails here
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    schema = (tmp_path / "schema.yaml").read_text()
    for operation in ("agents_list", "agents_approve", "agents_partial_update", "import_create"):
        assert f"operationId: {operation}" in schema
