"""The portal as gunicorn serves it, plus ``/bench-floor.md`` for ``bench/scale.py``: the
published file of ``$BENCH_FLOOR_NAME`` returned from memory behind the same middleware and
sign-in (the floor of a download's throughput). Not for production."""

from __future__ import annotations

import os
import sys
import types
import warnings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentportal.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
os.environ["DEBUG"] = ""
warnings.filterwarnings("ignore", message="No directory at")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.http import require_GET  # noqa: E402

from agents.distribution import files  # noqa: E402

DATA = files.published_file(os.environ["BENCH_FLOOR_NAME"]).text.encode()


@require_GET
@login_required
def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(DATA, content_type="text/markdown; charset=utf-8")


urls = types.ModuleType("bench_scale_urls")
urls.urlpatterns = [path("bench-floor.md", floor), path("", include("agentportal.urls"))]
sys.modules["bench_scale_urls"] = urls
settings.ROOT_URLCONF = "bench_scale_urls"

application = get_wsgi_application()
