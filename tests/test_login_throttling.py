"""Login throttling: after five wrong passwords for one account from one address, that account
cannot sign in from that address, not even with the right password, until the cool-off has
passed or an admin unlocks it. Other accounts and other addresses sign in as usual."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = reverse("admin:login")
PORTAL_LOGIN = reverse("login")
ATTEMPTS = reverse("admin:axes_accessattempt_changelist")


def sign_in(client: Client, username: str, password: str, page: str = ADMIN_LOGIN, **extra):
    return client.post(
        page, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def locked_out(response) -> bool:
    return response.status_code == 429 and "Sign-in blocked" in response.content.decode()


@pytest.fixture
def locked(client, author) -> Client:
    """The author's account after five wrong passwords from the test client's address."""
    for _ in range(5):
        sign_in(client, "author", "wrong")
    return client


def test_sixty_wrong_passwords_and_then_the_right_one_is_refused(client, author):
    for _ in range(4):
        response = sign_in(client, "author", "guess")
        assert response.status_code == 200  # the usual form, with its error
        assert "Please enter the correct username and password" in response.content.decode()

    fifth = sign_in(client, "author", "guess")
    assert locked_out(fifth)
    for _ in range(55):
        assert locked_out(sign_in(client, "author", "guess"))

    right = sign_in(client, "author", "pw-author")

    assert locked_out(right)
    content = right.content.decode()
    assert "5 wrong passwords for “author” from your address" in content
    assert "for the next 15 minutes" in content
    assert "ask an administrator to unlock the account" in content
    assert "Agent Portal administration" in content  # the admin's look: header and style
    assert client.get(reverse("admin:index")).status_code == 302  # not signed in


def test_fewer_failures_than_the_limit_do_not_lock(client, author):
    for _ in range(4):
        sign_in(client, "author", "guess")

    assert signed_in(sign_in(client, "author", "pw-author"))


def test_a_success_starts_the_count_again(client, author):
    for _ in range(4):
        sign_in(client, "author", "guess")
    sign_in(client, "author", "pw-author")
    client.logout()

    for _ in range(4):
        sign_in(client, "author", "guess")

    assert signed_in(sign_in(client, "author", "pw-author"))


def test_the_same_account_from_another_address_is_not_locked(locked, author):
    elsewhere = Client(REMOTE_ADDR="192.0.2.77")

    assert signed_in(sign_in(elsewhere, "author", "pw-author"))


def test_another_account_from_the_same_address_is_not_locked(locked, reviewer):
    assert signed_in(sign_in(locked, "reviewer", "pw-reviewer"))


def test_the_lock_ends_after_the_cool_off(locked, author):
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert signed_in(sign_in(locked, "author", "pw-author"))


def test_an_admin_sees_the_lock_and_unlocks_it(locked, author, admin_user):
    admin = Client()
    admin.force_login(admin_user)
    listing = admin.get(ATTEMPTS, {"locked_out": "yes"})
    assert listing.status_code == 200
    assert "author" in listing.content.decode()
    assert "Locked Out" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="author")

    unlocked = admin.post(
        ATTEMPTS, {"action": "unlock", ACTION_CHECKBOX_NAME: [attempt.pk]}, follow=True
    )

    assert "Unlocked: author from 127.0.0.1. They can sign in again." in unlocked.content.decode()
    assert signed_in(sign_in(locked, "author", "pw-author"))


def test_people_who_are_not_admins_cannot_see_or_unlock(locked, reviewer):
    staff = Client()
    staff.force_login(reviewer)

    assert staff.get(ATTEMPTS).status_code == 403
    attempt = AccessAttempt.objects.get(username="author")
    staff.post(ATTEMPTS, {"action": "unlock", ACTION_CHECKBOX_NAME: [attempt.pk]})
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_the_portal_login_page_locks_out_the_same_way(client, author):
    assert client.get(PORTAL_LOGIN).status_code == 200
    for _ in range(5):
        sign_in(client, "author", "guess", page=PORTAL_LOGIN)

    portal = sign_in(client, "author", "pw-author", page=PORTAL_LOGIN)
    assert locked_out(portal)
    assert 'class="site-header"' in portal.content.decode()  # in the portal's look
    # One count for both pages: the admin's is locked too.
    assert locked_out(sign_in(client, "author", "pw-author"))


def test_the_portal_login_page_signs_in_when_not_locked(client, author):
    assert signed_in(sign_in(client, "author", "pw-author", page=PORTAL_LOGIN))


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(locked, author):
    # Without a proxy of ours in front (TRUSTED_PROXY_COUNT=0) the header is the client's word.
    forged = sign_in(locked, "author", "pw-author", HTTP_X_FORWARDED_FOR="198.51.100.9")

    assert locked_out(forged)


def test_behind_our_proxy_each_client_address_counts_on_its_own(client, settings, author):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.5"}  # every request reaches the app from the balancer
    for _ in range(5):
        sign_in(client, "author", "guess", HTTP_X_FORWARDED_FOR="203.0.113.10", **proxy)

    # What the client put before the address our proxy appended does not change who it is.
    forged = "198.51.100.9, 203.0.113.10"
    assert locked_out(sign_in(client, "author", "pw-author", HTTP_X_FORWARDED_FOR=forged, **proxy))
    other = Client()
    assert signed_in(
        sign_in(other, "author", "pw-author", HTTP_X_FORWARDED_FOR="203.0.113.20", **proxy)
    )
    assert AccessAttempt.objects.get().ip_address == "203.0.113.10"


def test_logging_in_as_the_tests_do_still_works(client, author):
    # force_login skips authentication, so it is never throttled.
    for _ in range(5):
        sign_in(Client(), "author", "guess")
    client.force_login(author)

    assert client.get(reverse("admin:index")).status_code == 200
