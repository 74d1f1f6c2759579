"""Login throttling, with django-axes doing the counting (settings: ``AXES_*``).

Failures are counted per account and address together: after ``AXES_FAILURE_LIMIT`` wrong
passwords for one account from one address, that account cannot sign in from that address,
even with the right password, until ``AXES_COOLOFF_TIME`` has passed since the last try or an
admin unlocks it (Access attempts in the admin). Other accounts and other addresses are not
affected, so nobody can lock a colleague out from elsewhere.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from axes.helpers import get_client_username
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse


def client_ip(request: HttpRequest) -> str | None:
    """The address a failed login is counted against.

    REMOTE_ADDR, unless ``TRUSTED_PROXY_COUNT`` proxies of ours stand in front of the app. Each
    of them appends the address it was reached from to X-Forwarded-For, so the client is that
    many entries from the right; whatever stands further left came from the client, who can
    write anything there. A header too short to have passed every proxy is ignored.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page a locked-out sign-in gets (HTTP 429), in the look of the sign-in page it came
    from: the admin's, or the portal's."""
    context = {
        "title": "Too many failed sign-ins",
        "username": get_client_username(request, credentials) or "",
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    if request.path.startswith(reverse("admin:index")):
        context |= admin.site.each_context(request)
        return render(request, "admin/locked_out.html", context, status=429)
    return render(request, "registration/locked_out.html", context, status=429)
