"""Collections: their pages, their plugin zips, and the marketplace that lists them.

Everyone signed in sees every collection (a plugin holds only published files, which everyone
signed in may download); authors create collections; a collection's owner and admins edit it.
The plugin zips and the marketplace also answer access tokens (``agents.tokens``), as a header
or as ``?token=``: Claude Code fetches them without a session.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from .. import permissions, tokens
from ..distribution import collections, marketplace, plugins
from ..forms.collections import CollectionForm, find_agents
from ..models import Collection, CollectionMember
from .common import message_page, render_page


def machine_access(view: Any) -> Any:
    """For the addresses Claude Code and scripts fetch: an access token (header or ?token=) or
    the session; with neither, a 401 that says how to get a token, not the sign-in page."""

    @tokens.accepts_token(query=True)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not permissions.is_signed_in(request.user):
            return tokens.refusal(
                tokens.TokenRefused(
                    "Sign in, or send an access token: create one on your Access tokens page "
                    f"({reverse('tokens')}) and add ?token=<token> to this address, or send "
                    "the header Authorization: Bearer <token>."
                )
            )
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def page_queryset() -> Any:
    members = CollectionMember.objects.select_related("agent__published_revision").prefetch_related(
        "agent__maintainers"
    )
    return Collection.objects.select_related("owner", "plugin").prefetch_related(
        Prefetch("members", queryset=members.order_by("position", "pk"))
    )


def collection_or_404(slug: str, queryset: Any = None) -> Collection:
    queryset = page_queryset() if queryset is None else queryset
    collection = queryset.filter(slug=slug).first()
    if collection is None:
        raise Http404("No collection by that name.")
    return collection


def install_commands(request: HttpRequest, slug: str) -> list[str]:
    base = marketplace.base_url(request)
    return [
        f"/plugin marketplace add {base}{reverse('marketplace')}?token=<your access token>",
        f"/plugin install {slug}@{marketplace.name()}",
    ]


# --- pages ----------------------------------------------------------------------------------


@login_required
def collection_list(request: HttpRequest) -> HttpResponse:
    rows = []
    for collection in Collection.objects.for_plugins():
        found = collections.contents(collection)
        rows.append(
            {
                "collection": collection,
                "included": len(found.included),
                "left_out": len(found.left_out),
                "built": collections.current(found),
            }
        )
    return render_page(
        request,
        "portal/collections/list.html",
        {
            "title": "Collections",
            "rows": rows,
            "can_create": permissions.can_author(request.user),
            "marketplace_url": marketplace.base_url(request) + reverse("marketplace"),
            "marketplace_name": marketplace.name(),
        },
    )


@login_required
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    collection = collection_or_404(slug)
    found = collections.contents(collection)
    built = collections.current(found)
    user = request.user
    agents = []
    for agent in found.included:
        ignored = plugins.ignored_fields(agent.published_revision.text)
        agents.append(
            {
                "agent": agent,
                "revision": agent.published_revision,
                "ignored": ignored,
                "warning": plugins.ignored_sentence(
                    f"{collection.slug}:{agent.published_revision.name}", ignored
                )
                if ignored
                else "",
            }
        )
    shown = [item for item in found.left_out if permissions.can_view(user, item.agent)]
    return render_page(
        request,
        "portal/collections/detail.html",
        {
            "title": collection.title or collection.slug,
            "collection": collection,
            "agents": agents,
            "warnings": [item["warning"] for item in agents if item["warning"]],
            "left_out": shown,
            "hidden_left_out": len(found.left_out) - len(shown),
            "built": built,
            "commands": install_commands(request, collection.slug),
            "marketplace_name": marketplace.name(),
            "can_edit": permissions.can_edit_collection(user, collection),
        },
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    if not permissions.can_author(request.user):
        return message_page(
            request,
            "New collection",
            "Only authors create collections. Ask an admin to add you to the Authors group.",
            403,
        )
    form = CollectionForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        collection = form.save(commit=False)
        collection.owner = request.user
        collection.save()
        collections.set_members(collection, form.agents)
        messages.success(request, f"Collection {collection.slug} created.")
        return redirect(collection)
    return render_page(
        request,
        "portal/collections/form.html",
        {"title": "New collection", "form": form},
    )


@login_required
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    collection = collection_or_404(slug)
    if not permissions.can_edit_collection(request.user, collection):
        return message_page(
            request,
            f"Edit {collection.slug}",
            "Only the collection's owner or an admin may change it.",
            403,
        )
    form = CollectionForm(
        request.POST if request.method == "POST" else None, instance=collection, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        collections.set_members(collection, form.agents + form.kept)
        messages.success(request, f"Collection {collection.slug} saved.")
        return redirect(collection)
    return render_page(
        request,
        "portal/collections/form.html",
        {"title": f"Edit {collection.slug}", "form": form, "collection": collection},
    )


@require_POST
@login_required
def add_agents(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Append agents (``agent``: slugs or names, repeated) to a collection, e.g. the catalog's
    current results; the collection from the address or the ``collection`` field. Goes back to
    ``next`` (a page of this site) or to the collection."""
    slug = slug or request.POST.get("collection", "")
    collection = Collection.objects.filter(slug=slug).first()
    if collection is None:
        return message_page(
            request, "Add to a collection", f"There is no collection called {slug!r}.", 404
        )
    if not permissions.can_edit_collection(request.user, collection):
        return message_page(
            request,
            "Add to a collection",
            f"Only the owner of {collection.slug} or an admin may add agents to it.",
            403,
        )
    names = [name.strip() for name in request.POST.getlist("agent") if name.strip()]
    agents, unknown = find_agents(request.user, names)
    added, already = collections.add_members(collection, agents)
    if added:
        messages.success(
            request,
            f"Added {len(added)} to {collection.slug}: " + ", ".join(a.name for a in added) + ".",
        )
    if already:
        messages.info(
            request,
            f"Already in {collection.slug}: " + ", ".join(a.name for a in already) + ".",
        )
    if unknown:
        messages.error(request, "No agent you can see is called " + ", ".join(unknown) + ".")
    if not names:
        messages.error(request, "No agents were chosen: nothing was added.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = collection.get_absolute_url()
    return redirect(target)


# --- for Claude Code ------------------------------------------------------------------------


@machine_access
@require_safe
def plugin_zip(request: HttpRequest, slug: str) -> HttpResponse:
    """The collection's plugin, as Claude Code installs it (``archive`` source)."""
    collection = collection_or_404(slug, Collection.objects.for_plugins(with_text=True))
    found = collections.contents(collection)
    counted = collections.stored(collection)
    if counted is not None and request.headers.get("If-None-Match") == f'"{counted.sha256}"':
        # Unchanged since the client's copy? Only if its content is what was counted.
        spec = collections.spec(found)
        if found.included and plugins.content_key(spec) == counted.content_key:
            return conditional(HttpResponse(status=304), counted.sha256)
    built = collections.current(found, with_zip=True)
    if built is None:
        raise Http404(f"Nothing in {collection.slug} is published yet: its plugin is empty.")
    response = HttpResponse(built.data, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{collection.slug}-{built.version}.zip"
    )
    response["X-Plugin-Version"] = built.version
    return conditional(response, built.sha256)


def conditional(response: HttpResponse, sha256: str) -> HttpResponse:
    response["ETag"] = f'"{sha256}"'
    # Only for the people who may fetch it; always asked again (the ETag makes that cheap).
    patch_cache_control(response, private=True, no_cache=True)
    return response


@machine_access
@require_safe
def marketplace_json(request: HttpRequest) -> HttpResponse:
    """``marketplace.json``: every collection with a published agent, as an archive plugin."""
    problems = marketplace.problems()
    if problems:
        return HttpResponse(
            "The marketplace is not configured correctly: " + " ".join(problems) + "\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    listings = []
    for collection in Collection.objects.for_plugins():
        built = collections.current(collections.contents(collection))
        if built is not None:
            listings.append(collections.listing(collection, built))
    document = marketplace.document(
        listings, marketplace.base_url(request), tokens.token_of(request)
    )
    response = JsonResponse(document, json_dumps_params={"indent": 2, "ensure_ascii": False})
    # It carries the requester's token in its links: never kept by any cache.
    patch_cache_control(response, private=True, no_store=True)
    return response
