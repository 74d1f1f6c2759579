from django.urls import path, register_converter

from . import converters
from .views import activity, agent, catalog, downloads, editor, history, review

register_converter(converters.RevisionNumberConverter, "revision")

app_name = "agents"

# Agent names may contain slashes (imported files), so each page about an agent is a suffix
# after its address (its slug, or its name); the pages that are not about one agent come first,
# the longer suffixes before the shorter, and the agent page itself last. An agent whose name
# is one of these first pages gets another slug (models.RESERVED_SLUGS).
urlpatterns = [
    path("", catalog.catalog, name="list"),
    path("new/", editor.new, name="new"),
    path("new/preview/", editor.preview, name="new-preview"),
    path("review/", review.queue, name="queue"),
    path("activity/", activity.activity, name="activity"),
    path("download.zip", downloads.download_zip, name="download-zip"),
    path("<path:name>/edit/preview/", editor.preview, {"mode": "edit"}, name="edit-preview"),
    path("<path:name>/clone/preview/", editor.preview, {"mode": "clone"}, name="clone-preview"),
    path("<path:name>/edit/", editor.edit, name="edit"),
    path("<path:name>/clone/", editor.clone, name="clone"),
    path("<path:name>/review/", review.review, name="review"),
    path("<path:name>/history/", history.history, name="history"),
    path("<path:name>/compare/", history.compare, name="compare"),
    path("<path:name>/revisions/<revision:number>.md", downloads.revision_file, name="revision"),
    path("<path:name>/revisions/<revision:number>/restore/", history.restore, name="restore"),
    path("<path:name>/actions/<str:action>/", history.transition, name="transition"),
    path("<path:name>/draft.md", downloads.download_draft, name="download-draft"),
    path("<path:name>.md", downloads.download, name="download"),
    path("<path:name>/", agent.detail, name="detail"),
]
