"""Uploads are bounded as they arrive: at most a batch's worth of files and bytes per request.

The handler runs first for every multipart request (``FILE_UPLOAD_HANDLERS`` in settings). Past a
limit it stops reading files and notes which limit was hit on the request, so that the page can
say so instead of Django's bare "400 Bad Request"; nothing over the limit is kept.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

from .importing import MAX_BATCH_BYTES, MAX_FILES_PER_BATCH

REFUSAL_ATTRIBUTE = "_agent_portal_upload_refusal"


def refusal(request: HttpRequest) -> str:
    """Why the request's files were cut short (a sentence for a person), or ''."""
    return getattr(request, REFUSAL_ATTRIBUTE, "")


class BoundedUploadHandler(FileUploadHandler):
    """Counts the files and bytes of one request and stops the upload past the batch limits."""

    def __init__(self, request: HttpRequest | None = None):
        super().__init__(request)
        self.files = 0
        self.bytes = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self.files += 1
        if self.files > MAX_FILES_PER_BATCH:
            self._stop(
                f"more than {MAX_FILES_PER_BATCH} files in one upload; a batch may hold at most "
                f"{MAX_FILES_PER_BATCH} files"
            )
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.bytes += len(raw_data)
        if self.bytes > MAX_BATCH_BYTES:
            self._stop(
                f"more than {MAX_BATCH_BYTES:,} bytes in one upload; a batch may hold at most "
                f"{MAX_BATCH_BYTES // 1024 // 1024} MB"
            )
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers keep the file

    def _stop(self, message: str) -> None:
        if self.request is not None:
            setattr(self.request, REFUSAL_ATTRIBUTE, message)
        # Read and drop the rest of the request, so the browser gets the page that says why.
        raise StopUpload(connection_reset=False)
