"""The import pages: upload agent files, see what each would do, then confirm.

``import_flow`` is the whole flow; the portal's page (``import_page``) and the admin's
(``agents.admin.imports``) call it with their own template, so both behave the same. The previewed
files wait on the server for the confirmation (``importing.stage``), bound to the person who
previewed them; any app server behind a load balancer can finish the import.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .. import importing, permissions, uploads
from ..forms.imports import ImportUploadForm

SKIP_REFUSED = "skip_refused"


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """The portal's import page, for authors; a finished import goes to the home page, where
    the author sees their agents by state."""
    return import_flow(
        request,
        "portal/import.html",
        {"title": "Import agent files"},
        done_url=reverse("home"),
        offer_skip=True,
    )


def import_flow(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    done_url: str,
    offer_skip: bool,
) -> HttpResponse:
    """Upload, preview, confirm: one page, three steps.

    - A GET shows the upload form.
    - A POST of files previews the batch (a dry run: what each file would do, with reasons and
      warnings) and keeps it for the confirmation when something of it can be imported.
    - A POST of ``batch`` confirms: every file, or nothing (the default); or, when
      ``offer_skip`` and the person chose it, the files that pass, skipping the refused ones.
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
            return redirect(request.path)
        entries, update = batch
        skip = offer_skip and request.POST.get(SKIP_REFUSED) == "1"
        results, saved = importing.import_batch(
            entries, update=update, owner=request.user, actor=request.user, skip_refused=skip
        )
        if saved:
            importing.unstage(batch_key, request.user)
            report(request, results)
            return redirect(done_url)
        batch_error = (
            "Nothing was imported: something changed since the preview (see below). Upload the "
            "files again to import them as they are now."
        )
        if offer_skip and any(not result.failed for result in results):
            batch_error = (
                "Nothing was imported: something changed since the preview (see below). Import "
                "the files that pass and skip the refused ones, or upload the files again."
            )
        else:
            batch_key = ""
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
                failed = any(result.failed for result in results)
                some_pass = any(not result.failed for result in results)
                if failed:
                    batch_error = "Nothing can be imported until every file is fixed or removed."
                    if offer_skip and some_pass:
                        batch_error = (
                            "Some files are refused (see below): fix them and upload again, or "
                            "import the files that pass and skip the refused ones."
                        )
                if not failed or (offer_skip and some_pass):
                    batch_key = importing.stage(entries, request.user, update=update)
    refused = sum(1 for result in results if result.failed)
    context = {
        **context,
        "form": form,
        "results": results,
        "batch": batch_key,
        "batch_error": batch_error,
        "refused_count": refused,
        "passing_count": len(results) - refused,
        "skip_field": SKIP_REFUSED,
    }
    return render(request, template, context)


def report(request: HttpRequest, results: list[importing.ImportResult]) -> None:
    """Say what a confirmed import did: the files imported, and the files skipped, by name."""
    done = [result for result in results if not result.skipped]
    skipped = [result for result in results if result.skipped]
    counts = Counter(result.outcome for result in done)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    files = "file" if len(done) == 1 else "files"
    messages.success(request, f"Imported {len(done)} {files}: {summary or 'nothing'}.")
    if skipped:
        names = ", ".join(result.source for result in skipped)
        files = "file" if len(skipped) == 1 else "files"
        messages.warning(
            request, f"Skipped {len(skipped)} refused {files}; nothing of them was saved: {names}."
        )
