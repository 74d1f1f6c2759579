"""Access tokens: how machines (Claude Code, scripts, later the REST API) act for a person who
cannot type a password into them.

A token is ``secrets.token_urlsafe(32)`` (43 characters, 256 bits). Only its SHA-256 is stored,
with its first characters (``prefix``) to tell tokens apart on the pages; the secret is shown
once, when it is created. A token is found by its prefix and its hash compared in constant time.

One kind of token, with a scope: ``read`` tokens only ever authenticate GET and HEAD; ``write``
tokens may also change things where a view allows it (the REST API will; the download views never
do). A token sees exactly what its owner sees: the views check permissions on ``request.user``,
which is the token's owner. It never creates a session.

Refusals are a 401 with a sentence saying why (expired, revoked, deactivated account, unknown
token), never a redirect to the sign-in page: a machine cannot sign in.

Views opt in with ``accepts_token`` (the download views, the plugin zips and the marketplace);
the REST API will wrap ``authenticate`` in a DRF authentication class.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import AccessToken

PREFIX_LENGTH = 8
EXPIRY_DAYS = (30, 90, 365)
# last_used_at is written at most this often per token: not one write per download.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SAFE_METHODS = frozenset({"GET", "HEAD"})
QUERY_PARAMETER = "token"
REALM = "Agent Portal"


class TokenRefused(Exception):  # noqa: N818 (reads as a sentence: "TokenRefused raised")
    """A token was presented and cannot be used; the message says why, for a person."""

    def __init__(self, message: str, status: int = 401):
        super().__init__(message)
        self.message = message
        self.status = status


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    user: Any, name: str, days: int, scope: str = AccessToken.Scope.READ
) -> tuple[AccessToken, str]:
    """A new token for ``user``, valid ``days`` days, and its secret (never stored, never shown
    again)."""
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    token = AccessToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=hash_secret(secret),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return token, secret


def revoke(token: AccessToken) -> bool:
    """Revoke the token now; False if it already was (its first revocation time stays)."""
    now = timezone.now()
    done = AccessToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=now)
    if done:
        token.revoked_at = now
    return bool(done)


def find(secret: str) -> AccessToken | None:
    """The token whose secret this is, with its owner; None if there is none."""
    if len(secret) < PREFIX_LENGTH or len(secret) > 200:
        return None
    wanted = hash_secret(secret)
    candidates = AccessToken.objects.select_related("user").filter(prefix=secret[:PREFIX_LENGTH])
    for token in candidates:
        if hmac.compare_digest(token.secret_hash, wanted):
            return token
    return None


def check(secret: str, method: str, allow_write: bool = False) -> AccessToken:
    """The token for ``secret`` if it may be used now for a request of this method; raises
    TokenRefused saying why not. Records when it was last used (at most once a minute)."""
    token = find(secret)
    if token is None:
        raise TokenRefused(
            "This access token is not valid: it may have been copied only in part, or deleted. "
            "Create a new one on your Access tokens page (/account/tokens/)."
        )
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused(
            f"This access token ({token.name}, {token.prefix}...) was revoked on "
            f"{token.revoked_at:%Y-%m-%d}. Create a new one on your Access tokens page "
            "(/account/tokens/)."
        )
    if token.expires_at <= now:
        raise TokenRefused(
            f"This access token ({token.name}, {token.prefix}...) expired on "
            f"{token.expires_at:%Y-%m-%d}. Create a new one on your Access tokens page "
            "(/account/tokens/)."
        )
    if not token.user.is_active:
        raise TokenRefused(
            "The account this access token belongs to is deactivated: its tokens no longer work."
        )
    if method not in SAFE_METHODS and not (allow_write and token.scope == token.Scope.WRITE):
        raise TokenRefused(
            f"Access tokens only read here: a {method} request needs a signed-in session.", 403
        )
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def presented(request: HttpRequest, query: bool) -> str | None:
    """The token a request carries: ``Authorization: Bearer <token>``, or (where ``query``)
    ``?token=<token>``; None when it carries none."""
    # From META, as request.headers would read it: headers builds a map of every header
    # first, and this runs on every download.
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if QUERY_PARAMETER in request.GET:
        if not query:
            raise TokenRefused(
                "A token in the address (?token=) is accepted only by the marketplace and its "
                "plugin downloads; send it in a header instead: Authorization: Bearer <token>."
            )
        return request.GET[QUERY_PARAMETER].strip()
    return None


def authenticate(
    request: HttpRequest, query: bool = False, allow_write: bool = False
) -> AccessToken | None:
    """Authenticate the request by the token it carries, if any: ``request.user`` becomes the
    token's owner and ``request.auth`` the token. None if the request carries no token (the
    session decides); raises TokenRefused if it carries one that cannot be used."""
    secret = presented(request, query)
    if secret is None:
        return None
    if not secret:
        raise TokenRefused("The Authorization header says Bearer but carries no token.")
    token = check(secret, request.method or "GET", allow_write)
    request.user = token.user
    request.auth = token
    request.token_secret = secret
    return token


def refusal(error: TokenRefused) -> HttpResponse:
    """The answer to a refused token: the reason as plain text, and the WWW-Authenticate
    header a client reads (RFC 6750)."""
    response = HttpResponse(
        error.message + "\n", status=error.status, content_type="text/plain; charset=utf-8"
    )
    if error.status == 401:
        description = error.message.replace('"', "'").replace("\\", "/")
        response["WWW-Authenticate"] = (
            f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
        )
    response["Cache-Control"] = "no-store"
    return response


def accepts_token(view: Callable[..., HttpResponse] | None = None, *, query: bool = False) -> Any:
    """Let a view be reached with an access token, read-only, besides the signed-in session.

    Put it above ``login_required``: a request with a usable token reaches the view as the
    token's owner; one with an unusable token gets a 401 saying why (never the sign-in page).
    ``query=True`` also accepts ``?token=`` (the marketplace addresses Claude Code fetches).
    """

    def decorate(function: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(function)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                authenticate(request, query=query)
            except TokenRefused as error:
                return refusal(error)
            return function(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def token_of(request: HttpRequest) -> str | None:
    """The secret of the token this request was authenticated with (None for a session): the
    marketplace passes it on in the addresses it lists, so Claude Code can fetch them."""
    return getattr(request, "token_secret", None)
