from django.urls import path, register_converter

from . import converters, views

register_converter(converters.RevisionNumberConverter, "revision")

app_name = "agents"

# Agent names may contain slashes (imported files), so each page is a suffix after the name;
# the longer suffixes come before "<name>.md", which would also match them.
urlpatterns = [
    path("activity/", views.activity, name="activity"),
    path("<path:name>/history/", views.history, name="history"),
    path("<path:name>/compare/", views.compare, name="compare"),
    path("<path:name>/revisions/<revision:number>.md", views.revision_file, name="revision"),
    path("<path:name>/revisions/<revision:number>/restore/", views.restore, name="restore"),
    path("<path:name>/actions/<str:action>/", views.transition, name="transition"),
    path("<path:name>/draft.md", views.download_draft, name="download-draft"),
    path("<path:name>.md", views.download, name="download"),
]
