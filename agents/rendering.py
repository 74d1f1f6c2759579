"""Markdown for people to read: an agent's prompt (or any Markdown it holds) as safe HTML.

HTML written inside the Markdown is shown as text, not obeyed: in a prompt, ``<example>`` or
``<thinking>`` are words for the model, and a ``<script>`` is an attack. The result is sanitised
by nh3 all the same (links keep only http, https and mailto; no attribute runs code), so even a
flaw in Markdown's own output cannot reach the page as markup.
"""

from __future__ import annotations

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension

_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
_TAGS = nh3.ALLOWED_TAGS - {"img", "area", "map"}  # no remote images: they would track readers
_URL_SCHEMES = {"http", "https", "mailto"}


class _HtmlAsText(Extension):
    """Raw HTML blocks and inline tags become escaped text."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def markdown_to_html(text: str) -> SafeString:
    """The Markdown ``text`` as sanitised HTML, safe to put in a page as it is."""
    html = markdown.markdown(text, extensions=[*_EXTENSIONS, _HtmlAsText()], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 -- sanitised by nh3 just above
