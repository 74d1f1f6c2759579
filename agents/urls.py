from django.urls import path, register_converter

from . import converters
from .views import activity, downloads, history

register_converter(converters.RevisionNumberConverter, "revision")

app_name = "agents"

# Agent names may contain slashes (imported files), so each page is a suffix after the name;
# the longer suffixes come before "<name>.md", which would also match them.
urlpatterns = [
    path("activity/", activity.activity, name="activity"),
    path("<path:name>/history/", history.history, name="history"),
    path("<path:name>/compare/", history.compare, name="compare"),
    path("<path:name>/revisions/<revision:number>.md", downloads.revision_file, name="revision"),
    path("<path:name>/revisions/<revision:number>/restore/", history.restore, name="restore"),
    path("<path:name>/actions/<str:action>/", history.transition, name="transition"),
    path("<path:name>/draft.md", downloads.download_draft, name="download-draft"),
    path("<path:name>.md", downloads.download, name="download"),
]
