from __future__ import annotations

import base64
from collections import Counter
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from . import agentfile, importing, permissions
from .models import Agent


def file_response(name: str, text: str) -> HttpResponse:
    """An agent file as a download named after the agent."""
    response = HttpResponse(text.encode(), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{agentfile.file_stem(name)}.md"
    )
    return response


@require_GET
@login_required
def download(request: HttpRequest, name: str) -> HttpResponse:
    """The published file: what everyone installs, even while a newer draft is under way."""
    agent = get_object_or_404(Agent.objects.for_download(), name=name)
    if not agent.is_downloadable:
        raise Http404("This agent has no published revision.")
    return file_response(agent.name, agent.published_revision.text)


@require_GET
@login_required
def download_draft(request: HttpRequest, name: str) -> HttpResponse:
    """The current working file, for the people who may edit or review it."""
    agent = get_object_or_404(Agent.objects.for_export().prefetch_related("maintainers"), name=name)
    if not agent.can_see_drafts(request.user):
        raise Http404("No such agent.")
    return file_response(agent.name, agent.render())


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(file, initial) for file in files if file]


class ImportUploadForm(forms.Form):
    files = MultipleFileField(
        help_text=(
            f"One or many .md files, or .zip archives of them (at most "
            f"{agentfile.MAX_FILE_BYTES // 1024 // 1024} MB a file, "
            f"{importing.MAX_FILES_PER_BATCH} files and "
            f"{importing.MAX_BATCH_BYTES // 1024 // 1024} MB in all)."
        )
    )
    update = forms.BooleanField(
        required=False, help_text="Replace agents that already exist (otherwise: conflict)."
    )

    def clean_files(self) -> list[tuple[str, bytes]]:
        uploads = []
        for upload in self.cleaned_data["files"]:
            limit = (
                importing.MAX_BATCH_BYTES
                if upload.name.lower().endswith(".zip")
                else agentfile.MAX_FILE_BYTES
            )
            if upload.size > limit:
                raise ValidationError(
                    f"{upload.name} is {upload.size:,} bytes; the limit is {limit:,} bytes."
                )
            if not upload.name.lower().endswith((".md", ".zip")):
                raise ValidationError(f"{upload.name}: upload .md files or .zip archives.")
            uploads.append((upload.name, upload.read()))
        return uploads


_IMPORT_SALT = "agents.import-batch"


def _sign_batch(entries: list[importing.Entry], update: bool) -> str:
    files = [[e.source, base64.b64encode(e.data).decode()] for e in entries]
    return signing.dumps({"update": update, "files": files}, salt=_IMPORT_SALT, compress=True)


def _unsign_batch(payload: str) -> tuple[list[importing.Entry], bool]:
    batch = signing.loads(payload, salt=_IMPORT_SALT, max_age=3600)
    entries = [importing.Entry(source, base64.b64decode(data)) for source, data in batch["files"]]
    return entries, bool(batch["update"])


def import_page(request: HttpRequest) -> HttpResponse:
    """Upload agent files, see what each would do, then confirm: all of the batch, or nothing.

    The files travel from the preview to the confirmation in a signed field, so any app server
    behind a load balancer can finish the import.
    """
    if not permissions.can_author(request.user):
        raise PermissionDenied
    form = ImportUploadForm()
    results: list[importing.ImportResult] = []
    payload = ""
    batch_error = ""
    if request.method == "POST" and "payload" in request.POST:
        try:
            entries, update = _unsign_batch(request.POST["payload"])
        except signing.BadSignature:
            messages.error(request, "This import expired or was altered; upload the files again.")
            return redirect("admin:agents_agent_import")
        results, saved = importing.import_batch(
            entries, update=update, owner=request.user, actor=request.user
        )
        if saved:
            counts = Counter(result.outcome for result in results)
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            messages.success(request, f"Imported {len(results)} files: {summary}.")
            return redirect("admin:agents_agent_changelist")
        batch_error = "Nothing was imported: a file changed meaning since the preview."
    elif request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            update = form.cleaned_data["update"]
            try:
                entries = importing.expand(form.cleaned_data["files"])
            except importing.BatchError as exc:
                batch_error = f"Nothing was imported: {exc}."
            else:
                results, _ = importing.import_batch(
                    entries, update=update, dry_run=True, owner=request.user, actor=request.user
                )
                if any(result.failed for result in results):
                    batch_error = "Nothing can be imported until every file is fixed or removed."
                else:
                    payload = _sign_batch(entries, update)
    context = {
        **admin.site.each_context(request),
        "title": "Import agent files",
        "opts": Agent._meta,
        "form": form,
        "results": results,
        "payload": payload,
        "batch_error": batch_error,
    }
    return render(request, "admin/agents/agent/import.html", context)
