"""Markup the catalog repeats on every row, built in one pass (a template loop per tool cost a
third of the page's rendering with 25 agents)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..toolinfo import ToolInfo

register = template.Library()

_FLAGS = {"legacy": " (legacy)", "unknown": " (unknown)"}


@register.simple_tag
def tool_names(tools: list[ToolInfo]) -> SafeString:
    """The tools as code names, legacy and unknown ones flagged (their explanation on hover);
    "all (no tools line)" when there is none."""
    if not tools:
        return format_html("{}", "all (no tools line)")
    return format_html_join(
        ", ",
        '<code class="tool-{}"{}>{}</code>{}',
        (
            (
                tool.kind,
                format_html(' title="{}"', tool.explanation) if tool.kind != "builtin" else "",
                tool.name,
                format_html(' <span class="legacy">{}</span>', _FLAGS[tool.kind].strip())
                if tool.kind in _FLAGS
                else "",
            )
            for tool in tools
        ),
    )
