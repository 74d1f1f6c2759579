"""The admin's import page: upload agent files, see what each would do, confirm all or nothing."""

from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .. import importing, permissions, uploads
from ..forms.imports import ImportUploadForm
from ..models import Agent


def import_page(request: HttpRequest) -> HttpResponse:
    """Upload agent files, see what each would do, then confirm: all of the batch, or nothing.

    The previewed files wait on the server for the confirmation (``importing.stage``), bound to
    the person who previewed them; any app server behind a load balancer can finish the import.
    """
    if not permissions.can_author(request.user):
        raise PermissionDenied
    form = ImportUploadForm()
    results: list[importing.ImportResult] = []
    batch_key = ""
    batch_error = ""
    if request.method == "POST" and "batch" in request.POST:
        batch_key = request.POST["batch"]
        batch = importing.staged(batch_key, request.user)
        if batch is None:
            messages.error(
                request,
                "This import is no longer waiting for confirmation (it expired after "
                f"{importing.STAGED_IMPORT_MAX_AGE.seconds // 60} minutes, was confirmed "
                "already, or was previewed by someone else); upload the files again.",
            )
            return redirect("admin:agents_agent_import")
        entries, update = batch
        results, saved = importing.import_batch(
            entries, update=update, owner=request.user, actor=request.user
        )
        if saved:
            importing.unstage(batch_key, request.user)
            counts = Counter(result.outcome for result in results)
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            messages.success(request, f"Imported {len(results)} files: {summary}.")
            return redirect("admin:agents_agent_changelist")
        batch_key = ""
        batch_error = (
            "Nothing was imported: something changed since the preview (see below). Upload the "
            "files again to import them as they are now."
        )
    elif request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, refusal=uploads.refusal(request))
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
                    batch_key = importing.stage(entries, request.user, update=update)
    context = {
        **admin.site.each_context(request),
        "title": "Import agent files",
        "opts": Agent._meta,
        "form": form,
        "results": results,
        "batch": batch_key,
        "batch_error": batch_error,
    }
    return render(request, "admin/agents/agent/import.html", context)
