"""The upload form of the import pages: .md files and zip archives, within the batch limits."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .. import agentfile, importing


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

    def __init__(self, *args: Any, refusal: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.refusal = refusal

    def clean_files(self) -> list[tuple[str, bytes]]:
        if self.refusal:
            # The upload was cut short: the files that arrived are not the batch that was sent.
            raise ValidationError(f"Nothing was uploaded: {self.refusal}.")
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
