from django.urls import path

from . import views

app_name = "agents"

urlpatterns = [
    path("<path:name>.md", views.download, name="download"),
]
