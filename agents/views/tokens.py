"""A person's access tokens: create one (its secret shown once), see when each was last used,
revoke one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from .. import tokens
from ..distribution import marketplace
from ..forms.tokens import TokenForm
from ..models import AccessToken
from .common import render_page


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        created, secret = tokens.create(
            request.user,
            form.cleaned_data["name"],
            form.cleaned_data["days"],
            form.cleaned_data["scope"],
        )
        form = TokenForm()
    base = marketplace.base_url(request)
    response = render_page(
        request,
        "portal/tokens.html",
        {
            "title": "Access tokens",
            "form": form,
            "tokens": AccessToken.objects.filter(user=request.user),
            "created": created,
            "secret": secret,
            "marketplace_url": base + reverse("marketplace"),
            "expiry_days": tokens.EXPIRY_DAYS,
        },
    )
    # The page may hold a secret: no cache, no back-button copy.
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_POST
@login_required
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = AccessToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404("You have no such token.")
    if tokens.revoke(token):
        messages.success(
            request, f"Token {token.name} ({token.prefix}…) revoked: it no longer works."
        )
    else:
        messages.info(request, f"Token {token.name} ({token.prefix}…) was already revoked.")
    return redirect("tokens")
