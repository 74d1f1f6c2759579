"""Access tokens: created on the user's page (shown once, stored hashed), used on downloads and
the marketplace, refused once expired or revoked or when the owner is deactivated; read-only;
never more than their owner may see."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents import tokens, workflow
from agents.distribution import collections
from agents.models import AccessToken, Collection

from .factories import AgentFactory, UserFactory
from .helpers import assert_same_query_count, queries_of

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def download_url(name: str) -> str:
    return reverse("agents:download", kwargs={"name": name})


# --- created, shown once, stored hashed -----------------------------------------------------


def test_a_token_created_on_the_page_is_shown_once_and_only_its_hash_is_stored(client, reader):
    client.force_login(reader)

    response = client.post(reverse("tokens"), {"name": "laptop", "scope": "read", "days": "90"})

    secret = re.search(r'id="new-token-secret" value="([^"]+)"', response.content.decode())[1]
    token = AccessToken.objects.get()
    assert (token.user, token.name, token.scope) == (reader, "laptop", "read")
    assert token.prefix == secret[:8]
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert "no-store" in response["Cache-Control"]
    # Never shown again, and nowhere in the database.
    assert secret not in client.get(reverse("tokens")).content.decode()
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert secret not in dump.getvalue()
    assert token.secret_hash in dump.getvalue()


def test_the_page_lists_only_the_users_own_tokens(client, reader, author):
    tokens.create(reader, "mine", 30)
    tokens.create(author, "someone-elses", 30)
    client.force_login(reader)

    page = client.get(reverse("tokens")).content.decode()

    assert "mine" in page
    assert "someone-elses" not in page


def test_a_token_needs_a_name_and_an_offered_expiry(client, reader):
    client.force_login(reader)

    response = client.post(reverse("tokens"), {"name": "", "scope": "read", "days": "9999"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "Select a valid choice" in response.content.decode()
    assert not AccessToken.objects.exists()


# --- used ---------------------------------------------------------------------------------


def test_a_token_downloads_a_published_agent_without_a_session(reader):
    agent = AgentFactory(name="code-reviewer", published=True)
    _, secret = tokens.create(reader, "ci", 30)

    response = Client().get(download_url("code-reviewer"), headers=bearer(secret))

    agent.refresh_from_db()
    assert response.status_code == 200
    assert response.content == agent.published_revision.text.encode()
    assert "sessionid" not in response.cookies  # a token never creates a session
    assert AccessToken.objects.get().last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(reader):
    AgentFactory(name="code-reviewer", published=True)
    token, secret = tokens.create(reader, "ci", 30)
    machine = Client()
    machine.get(download_url("code-reviewer"), headers=bearer(secret))
    first_use = AccessToken.objects.get().last_used_at

    again = queries_of(lambda: machine.get(download_url("code-reviewer"), headers=bearer(secret)))

    assert AccessToken.objects.get().last_used_at == first_use
    assert not [sql for sql in again if sql.startswith("UPDATE")]
    AccessToken.objects.update(last_used_at=first_use - timedelta(minutes=2))
    machine.get(download_url("code-reviewer"), headers=bearer(secret))
    assert AccessToken.objects.get().last_used_at > first_use


def test_the_token_page_shows_when_each_token_was_last_used(client, reader):
    AgentFactory(name="code-reviewer", published=True)
    _, secret = tokens.create(reader, "ci", 30)
    client.force_login(reader)
    assert "never" in client.get(reverse("tokens")).content.decode()

    Client().get(download_url("code-reviewer"), headers=bearer(secret))

    used = AccessToken.objects.get().last_used_at
    assert used.strftime("%Y-%m-%d %H:%M") in client.get(reverse("tokens")).content.decode()


# --- refused ------------------------------------------------------------------------------


def assert_refused(response, words: str) -> None:
    assert response.status_code == 401
    assert words in response.content.decode()
    assert "Location" not in response  # never the sign-in page
    assert response["WWW-Authenticate"].startswith('Bearer realm="Agent Portal"')


def test_an_expired_token_is_refused_with_the_date_it_expired(reader):
    AgentFactory(name="code-reviewer", published=True)
    token, secret = tokens.create(reader, "ci", 30)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = Client().get(download_url("code-reviewer"), headers=bearer(secret))

    assert_refused(response, "expired on")


def test_a_token_revoked_on_the_page_is_refused_from_then_on(client, reader):
    AgentFactory(name="code-reviewer", published=True)
    token, secret = tokens.create(reader, "ci", 30)
    machine = Client()
    assert machine.get(download_url("code-reviewer"), headers=bearer(secret)).status_code == 200
    client.force_login(reader)

    client.post(reverse("token-revoke", kwargs={"pk": token.pk}))

    assert_refused(machine.get(download_url("code-reviewer"), headers=bearer(secret)), "revoked")
    assert_refused(machine.get(f"/marketplace.json?token={secret}"), "revoked")
    assert "revoked" in client.get(reverse("tokens")).content.decode()


def test_nobody_revokes_someone_elses_token(client, reader, author):
    token, secret = tokens.create(author, "ci", 30)
    client.force_login(reader)

    response = client.post(reverse("token-revoke", kwargs={"pk": token.pk}))

    assert response.status_code == 404
    assert AccessToken.objects.get().revoked_at is None


def test_an_admin_revokes_a_token_in_the_admin_without_ever_seeing_its_secret(admin_client, reader):
    AgentFactory(name="code-reviewer", published=True)
    token, secret = tokens.create(reader, "ci", 30)

    listing = admin_client.get(reverse("admin:agents_accesstoken_changelist"))
    admin_client.post(
        reverse("admin:agents_accesstoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )

    assert token.prefix in listing.content.decode()
    assert secret not in listing.content.decode()
    assert_refused(Client().get(download_url("code-reviewer"), headers=bearer(secret)), "revoked")


def test_a_deactivated_owners_tokens_stop_working(reader):
    AgentFactory(name="code-reviewer", published=True)
    _, secret = tokens.create(reader, "ci", 30)
    reader.is_active = False
    reader.save()

    response = Client().get(download_url("code-reviewer"), headers=bearer(secret))

    assert_refused(response, "deactivated")


@pytest.mark.parametrize("header", ["Bearer not-a-real-token-at-all", "Bearer ", "bearer x"])
def test_an_unknown_token_is_refused_saying_so(header):
    AgentFactory(name="code-reviewer", published=True)

    response = Client().get(download_url("code-reviewer"), headers={"Authorization": header})

    assert response.status_code == 401
    assert "Location" not in response


def test_a_token_in_the_address_of_an_agent_download_is_refused_with_the_header_to_use(reader):
    AgentFactory(name="code-reviewer", published=True)
    _, secret = tokens.create(reader, "ci", 30)

    response = Client().get(download_url("code-reviewer") + f"?token={secret}")

    assert_refused(response, "Authorization: Bearer")


# --- read-only ----------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["read", "write"])
def test_a_token_cannot_post_to_what_it_may_read(reader, scope):
    agent = AgentFactory(name="code-reviewer", published=True)
    collection = Collection.objects.create(slug="team", title="Team")
    collections.set_members(collection, [agent])
    _, secret = tokens.create(reader, "ci", 30, scope=scope)
    machine = Client()  # no CSRF check: the token is what is refused

    marketplace = machine.post("/marketplace.json", headers=bearer(secret))
    plugin = machine.post("/collections/team/plugin.zip", headers=bearer(secret))
    download = machine.post(download_url("code-reviewer"), headers=bearer(secret))

    assert marketplace.status_code == plugin.status_code == 403
    assert "only read" in marketplace.content.decode()
    assert download.status_code in (403, 405)


def test_a_token_cannot_change_a_collection(author):
    collection = Collection.objects.create(slug="team", title="Team", owner=author)
    AgentFactory(name="code-reviewer", published=True)
    _, secret = tokens.create(author, "ci", 30, scope="write")

    response = Client().post(
        reverse("collection-add", kwargs={"slug": "team"}),
        {"agent": ["code-reviewer"]},
        headers=bearer(secret),
    )

    assert response.status_code in (302, 403)
    assert not collection.members.exists()


# --- exactly what the owner may see -------------------------------------------------------


def test_a_token_never_reaches_a_draft_its_owner_could_not_see(reader, author):
    draft = AgentFactory(name="secret-plan", owner=author)  # never published
    published = AgentFactory(name="code-reviewer", owner=author, published=True)
    published.description = "A newer draft nobody reviewed. Use proactively."
    published.save()
    workflow.record_revision(published, author)
    _, reader_secret = tokens.create(reader, "ci", 30)
    _, author_secret = tokens.create(author, "ci", 30)
    machine = Client()

    def get(url: str, secret: str) -> int:
        return machine.get(url, headers=bearer(secret)).status_code

    draft_file = reverse("agents:download-draft", kwargs={"name": draft.slug})
    newer_draft = reverse("agents:download-draft", kwargs={"name": published.slug})
    unreviewed = reverse("agents:revision", kwargs={"name": published.slug, "number": 2})
    assert get(draft_file, reader_secret) == 404
    assert get(newer_draft, reader_secret) == 404
    assert get(unreviewed, reader_secret) == 404
    assert get(download_url("secret-plan"), reader_secret) == 404
    # The published revision, not the draft, is what the download serves.
    response = machine.get(download_url("code-reviewer"), headers=bearer(reader_secret))
    assert b"A newer draft" not in response.content
    # The author's own token sees what the author sees.
    assert get(draft_file, author_secret) == 200
    assert get(unreviewed, author_secret) == 200


def test_a_reviewers_token_reads_drafts_like_the_reviewer(reviewer, author):
    draft = AgentFactory(name="secret-plan", owner=author)
    _, secret = tokens.create(reviewer, "ci", 30)

    response = Client().get(
        reverse("agents:download-draft", kwargs={"name": draft.slug}), headers=bearer(secret)
    )

    assert response.status_code == 200
    assert b"name: secret-plan" in response.content


# --- queries ------------------------------------------------------------------------------


def test_token_page_query_count_does_not_grow(client, reader):
    tokens.create(reader, "first", 30)
    client.force_login(reader)
    other = UserFactory()

    def grow() -> None:
        for n in range(10):
            tokens.create(reader, f"token-{n}", 30)
            tokens.create(other, f"other-{n}", 30)

    # session, user, the user's tokens (and the navigation's group lookup)
    assert_same_query_count(lambda: client.get(reverse("tokens")), grow)


def test_token_download_query_count_does_not_grow(reader):
    AgentFactory(name="code-reviewer", published=True)
    _, secret = tokens.create(reader, "ci", 30)
    machine = Client()
    url = download_url("code-reviewer")
    machine.get(url, headers=bearer(secret))

    def grow() -> None:
        for n in range(10):
            tokens.create(reader, f"token-{n}", 30)
        AgentFactory.create_batch(5, published=True)

    # token (+user), the agent (+published revision)
    assert assert_same_query_count(lambda: machine.get(url, headers=bearer(secret)), grow) <= 2


def test_a_token_downloads_the_zip_of_published_agents(reader):
    AgentFactory(name="code-reviewer", published=True)
    AgentFactory(name="still-a-draft")
    _, secret = tokens.create(reader, "ci", 30)

    response = Client().get(reverse("agents:download-zip"), headers=bearer(secret))

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == [".claude/agents/code-reviewer.md"]
