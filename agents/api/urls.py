"""The API's addresses, under /api/ (agentportal/urls.py)."""

from __future__ import annotations

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views
from .errors import not_found

app_name = "api"

agents = views.AgentViewSet.as_view({"get": "index", "post": "create"})
agent = views.AgentViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
revisions = views.RevisionViewSet.as_view({"get": "index"})
revision = views.RevisionViewSet.as_view({"get": "retrieve"})

# Swagger UI adds one <style> element of its own as it starts (drf-spectacular-sidecar
# 2026.10.1): allowed by its hash on the docs page alone. Scripts stay files of the portal.
SWAGGER_UI_STYLE = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"
docs = csp_update({"style-src": [SWAGGER_UI_STYLE]})(
    SpectacularSwaggerView.as_view(url_name="api:schema", template_name="api/swagger_ui.html")
)

ACTIONS = {
    "submit": ("submit", "Submit for review", "With a change note as comment."),
    "withdraw": ("withdraw", "Withdraw from review", "Back to draft, to change it."),
    "approve": (
        "approve",
        "Approve",
        "Publishes the revision named: it must be the one in review now (else 409 with the "
        "diff). Four eyes: not by whoever submitted or wrote it.",
    ),
    "request-changes": (
        "request_changes",
        "Request changes",
        "Send it back to its author; a comment is required.",
    ),
    "archive": ("archive", "Archive", "Admins: no longer listed or downloadable."),
    "restore": ("restore", "Restore from the archive", "Admins: back to draft."),
}

urlpatterns = [
    path("agents/", agents, name="agents"),
    path("agents/<str:name>/", agent, name="agent"),
    path("agents/<str:name>/file", views.AgentFileView.as_view(), name="agent-file"),
    path("agents/<str:name>/diff", views.DiffView.as_view(), name="agent-diff"),
    path("agents/<str:name>/revisions/", revisions, name="revisions"),
    path("agents/<str:name>/revisions/<int:number>/", revision, name="revision"),
    *(
        path(
            f"agents/<str:name>/{segment}",
            views.action_view(action, summary, description),
            name=f"agent-{segment}",
        )
        for segment, (action, summary, description) in ACTIONS.items()
    ),
    path("import/", views.ImportView.as_view(), name="import"),
    path("tools/", views.ToolList.as_view(), name="tools"),
    path("collections/", views.CollectionList.as_view(), name="collections"),
    path("events/", views.EventList.as_view(), name="events"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs, name="docs"),
    re_path(r"^.*$", not_found),
]
