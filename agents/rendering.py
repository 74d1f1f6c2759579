"""Markdown for people to read: an agent's prompt (or any Markdown it holds) as safe HTML.

HTML written inside the Markdown is shown as text, not obeyed: in a prompt, ``<example>`` or
``<thinking>`` are words for the model, and a ``<script>`` is an attack. The result is sanitised
by nh3 all the same (links keep only http, https and mailto; no attribute runs code), so even a
flaw in Markdown's own output cannot reach the page as markup.
"""

from __future__ import annotations

import re

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
_TAGS = nh3.ALLOWED_TAGS - {"img", "area", "map"}  # no remote images: they would track readers
_URL_SCHEMES = {"http", "https", "mailto"}


class _HtmlAsText(Extension):
    """Raw HTML blocks and inline tags become escaped text."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


# A list item: its indentation, its marker (-, *, + or a number and . or )), the spaces after it.
_ITEM_RE = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( {1,4})(?=\S)")
_FENCE_RE = re.compile(r"^ *(`{3,}|~{3,})")


class _ListsAsWritten(Extension):
    """Lists read as their authors meant them (and as CommonMark, GitHub and Claude read them):
    a list nested by indenting it to the text of its item (3 spaces under "1. ", 2 under "- ")
    is nested, and a list right after a line of text starts a list. Python-Markdown needs 4
    spaces per level and a blank line before a list; without this, most prompts' nested steps
    would run together into one paragraph."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        # after whitespace is normalised (30), before fenced code is taken out (25)
        md.preprocessors.register(_ListIndentation(md), "lists_as_written", 28)


class _ListIndentation(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        # Open list items: (column of the item's text as written, the column it gets).
        items: list[tuple[int, int]] = []
        fence: str | None = None
        shift = 0
        previous = "blank"  # blank, item (or text inside an item) or text
        for line in lines:
            indent = len(line) - len(line.lstrip(" "))
            if fence is not None:  # code as written, moved with its item
                out.append(" " * max(indent + shift, 0) + line[indent:] if line.strip() else line)
                if line.strip().startswith(fence):
                    fence = None
                continue
            if not line.strip():
                out.append(line)
                previous = "blank"
                continue
            while items and indent < items[-1][0]:
                items.pop()
            shift = items[-1][1] - items[-1][0] if items else 0
            opened = _FENCE_RE.match(line)
            if opened:
                fence = opened.group(1)
            item = _ITEM_RE.match(line)
            if item and not opened:
                if previous == "text" and not items and _may_interrupt(item.group(2)):
                    out.append("")
                target = indent + shift
                items.append((indent + len(item.group(2)) + len(item.group(3)), target + 4))
                previous = "item"
            elif previous == "blank":
                previous = "item" if items else "text"
            out.append(" " * (indent + shift) + line[indent:])
        return out


def _may_interrupt(marker: str) -> bool:
    """A list may start right after a line of text with a bullet, or with the number 1."""
    return marker in "-*+" or marker[:-1] == "1"


def markdown_to_html(text: str) -> SafeString:
    """The Markdown ``text`` as sanitised HTML, safe to put in a page as it is."""
    html = markdown.markdown(
        text, extensions=[*_EXTENSIONS, _HtmlAsText(), _ListsAsWritten()], output_format="html"
    )
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 -- sanitised by nh3 just above
