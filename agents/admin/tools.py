"""The tool registry: built-in tool names and legacy names with their replacement."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ..models import Tool


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin):
    list_display = ["name", "replaced_by", "legacy"]
    list_select_related = ["replaced_by"]
    search_fields = ["name"]
    fields = ["name", "replaced_by"]

    @admin.display(boolean=True, description="legacy")
    def legacy(self, obj: Tool) -> bool:
        return obj.is_legacy

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "replaced_by":
            # A legacy name points at a current tool, never at another legacy name.
            kwargs["queryset"] = Tool.objects.filter(replaced_by=None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
