"""How the API knows who calls: the browser session (with CSRF, DRF's ``SessionAuthentication``)
or a personal access token (``Authorization: Bearer ...``), the same tokens as everywhere
(``agents.tokens``). A read token only ever authenticates GET and HEAD."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from .. import tokens


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``: the request acts as the token's owner; a token that
    cannot be used (unknown, expired, revoked, read-only for a change) is refused, saying why."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        try:
            token = tokens.authenticate(request._request, allow_write=True)
        except tokens.TokenRefused as refused:
            if refused.status == 403:
                raise exceptions.PermissionDenied(refused.message) from refused
            raise exceptions.AuthenticationFailed(refused.message) from refused
        if token is None:
            return None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes an unauthenticated request a 401 (with this challenge), not a 403.
        return f'Bearer realm="{tokens.REALM}"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The token, as the OpenAPI schema describes it."""

    target_class = BearerTokenAuthentication
    name = "accessToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token from /account/tokens/ (read or write).",
        }
