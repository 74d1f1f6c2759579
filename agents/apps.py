from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        from . import notifications
        from .models import event_recorded

        event_recorded.connect(notifications.on_event_recorded, dispatch_uid="agents.mail")
