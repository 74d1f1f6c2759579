"""Prompts shown as HTML: Markdown renders, anything that could run in a browser does not."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from agents.rendering import markdown_to_html


def test_markdown_renders_headings_lists_code_and_tables():
    html = markdown_to_html(
        "# Role\n\n1. **Read** the code\n2. Test it\n\n```python\nx = 1\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )

    assert "<h1>Role</h1>" in html
    assert "<li><strong>Read</strong> the code</li>" in html
    assert "<pre><code>x = 1\n</code></pre>" in html
    assert "<td>1</td>" in html


def test_tags_written_in_a_prompt_are_shown_as_text():
    html = markdown_to_html("<example>\nContext: a user asks\n</example>\n\nUse <thinking> first.")

    assert "&lt;example&gt;" in html
    assert "&lt;thinking&gt;" in html
    assert "<example>" not in html


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "![x](https://tracker.example/pixel.png)",
        "<iframe src=https://example.com></iframe>",
        '<svg onload="alert(1)"></svg>',
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    ],
)
def test_nothing_in_a_prompt_becomes_active_markup(attack):
    html = markdown_to_html(f"Before\n\n{attack}\n\nAfter")

    elements = Elements()
    elements.feed(html)
    tags = {tag for tag, _ in elements.found}
    assert not tags & {"script", "img", "iframe", "svg", "object", "embed", "style"}
    for _, attributes in elements.found:
        for name, value in attributes:
            assert not name.startswith("on")
            if name in ("href", "src"):
                assert value.startswith(("https:", "http:", "mailto:")), value
    assert "Before" in html and "After" in html


class Elements(HTMLParser):
    """Every element of a piece of HTML, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def test_links_keep_safe_addresses_and_do_not_leak_the_referrer():
    html = markdown_to_html("[docs](https://example.com/docs)")

    assert 'href="https://example.com/docs"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_a_list_nested_under_the_text_of_its_item_is_nested():
    # How most prompts write sub-steps (and how GitHub and Claude read them): indented to the
    # text of the item, 3 spaces under "1. ", 2 under "- ".
    html = markdown_to_html(
        "1. **Analyse**: look at\n   - the code\n   - the tests\n     - unit\n2. Report\n"
        "\n- tea\n  - green\n"
    )

    assert "<li><strong>Analyse</strong>: look at<ul>\n<li>the code</li>" in html
    assert "<li>the tests<ul>\n<li>unit</li>\n</ul>\n</li>" in html
    assert "<li>Report</li>" in html
    assert "<li>tea<ul>\n<li>green</li>" in html


def test_a_list_right_after_a_line_of_text_is_a_list():
    html = markdown_to_html("**Best practices:**\n- Type hints\n- Tests\n\nYear:\n2024. A number")

    assert "<p><strong>Best practices:</strong></p>\n<ul>\n<li>Type hints</li>" in html
    assert "<p>Year:\n2024. A number</p>" in html  # only a list starting at 1 interrupts text


def test_code_keeps_its_indentation_and_list_lookalikes():
    html = markdown_to_html("Text\n\n    indented code\n\n```yaml\n- a: 1\n  - b\n```\n")

    assert "<pre><code>indented code\n</code></pre>" in html
    assert "<pre><code>- a: 1\n  - b\n</code></pre>" in html
