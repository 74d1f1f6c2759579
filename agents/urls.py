from django.urls import path

from . import views

app_name = "agents"

urlpatterns = [
    path("<path:name>/draft.md", views.download_draft, name="download-draft"),
    path("<path:name>.md", views.download, name="download"),
]
