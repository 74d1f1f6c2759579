"""Errors under /api/ are JSON, always: ``{"detail": "...", "field": "..."}`` (``field`` when one
field is at fault) or DRF's field errors; never an HTML page, a 404 and a 500 included."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ..workflow import StaleApproval, WorkflowError

logger = logging.getLogger(__name__)


class Problem(exceptions.APIException):
    """A refusal with its status, a sentence saying why, the field at fault and more data
    (``current_revision``, ``diff``...)."""

    def __init__(self, status_code: int, detail: str, field: str | None = None, **extra: Any):
        super().__init__(detail)
        self.status_code = status_code
        self.field = field
        self.extra = extra


def handle(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler, extended: workflow refusals, ``Problem``, and anything else as a
    JSON 500 (logged)."""
    if isinstance(exc, StaleApproval):
        exc = Problem(
            status.HTTP_409_CONFLICT,
            str(exc),
            "revision",
            reviewed_revision=exc.reviewed,
            current_revision=exc.latest,
            diff=exc.diff,
        )
    elif isinstance(exc, WorkflowError):
        exc = Problem(status.HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, Problem):
        body = {"detail": str(exc.detail)}
        if exc.field:
            body["field"] = exc.field
        return Response({**body, **exc.extra}, status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        # DRF's field errors, kept under "errors", led by one sentence and the field at fault.
        field, message = first_error(exc.detail)
        body = {"detail": f"{field}: {message}" if field else message, "errors": exc.detail}
        if field:
            body["field"] = field
        return Response(body, status=exc.status_code)
    if isinstance(exc, (Http404, PermissionDenied)) and str(exc):
        # Say why (the message the shared code raised), not DRF's generic sentence.
        code = 404 if isinstance(exc, Http404) else 403
        return Response({"detail": str(exc)}, status=code)
    response = exception_handler(exc, context)
    if response is not None:
        return response
    logger.exception("API error", exc_info=exc)
    return Response(
        {"detail": "The server failed to answer this request; the error was logged."},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def first_error(detail: Any, path: str = "") -> tuple[str, str]:
    """The first field at fault in DRF's nested errors (``sections.0.kind``) and its message."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                return first_error(value, path)
            return first_error(value, f"{path}.{key}" if path else str(key))
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:  # a list of rows has {} for the rows without errors
                inner = f"{path}.{index}" if isinstance(value, (dict, list)) and path else path
                return first_error(value, inner)
    return path, str(detail)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that is not an endpoint."""
    return JsonResponse(
        {"detail": f"There is no API endpoint at {request.path}: see /api/docs/."}, status=404
    )
