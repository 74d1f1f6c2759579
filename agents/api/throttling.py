"""Throttling: per person (whichever way they authenticate) and per token, counted in the
Django cache (``CACHES``: the database by default, so every app server counts together).

Rates are ``API_USER_RATE`` and ``API_TOKEN_RATE`` in the settings (``REST_FRAMEWORK``'s
``DEFAULT_THROTTLE_RATES``)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ..models import AccessToken


class SettingsRate(SimpleRateThrottle):
    """The rate of ``scope`` as the settings say now (DRF reads them once, at import)."""

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class PerUserThrottle(SettingsRate):
    """Every request of one person, by session or by any of their tokens; anonymous requests
    by address."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PerTokenThrottle(SettingsRate):
    """The requests made with one token (a runaway script is stopped before its owner is)."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, AccessToken):
            return None  # not a token request: not throttled here
        return self.cache_format % {"scope": self.scope, "ident": f"token-{request.auth.pk}"}
