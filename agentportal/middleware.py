"""Site-wide answers to requests the code cannot serve."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import bad_request

API_PREFIX = "/api/"  # the REST API answers in JSON, its errors included


class BadInputMiddleware:
    """Values no page can use are the client's mistake: 400, as for any malformed request.

    - A NUL character in the address or its query: no name, filter or search holds one, and
      PostgreSQL refuses it in any query (a ``DataError``, so a 500, wherever it reached one).
    - A number too large for the database: SQLite cannot bind an integer above 2^63 - 1
      (``OverflowError``), and Django's admin passes any field lookup of the address
      (``?id=99999999999999999999``) to a query. The portal's own pages check their numbers
      before querying (``agents.converters``); this is the net under the admin.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.lists()
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in query
        ):
            return _refused(request, "The address holds a NUL character: no value may hold one.")
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError):
            return _refused(request, "The address holds a number far too large.")
        return None


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": message}, status=400)
    return bad_request(request, ValueError(message))
