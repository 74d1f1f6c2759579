"""Revision numbers in addresses, checked before any query runs.

A number that cannot be a revision is a 404 (or a 400 for a query parameter), never a database
error: SQLite cannot compare with an integer above 2^63, PostgreSQL's column stops at 2^31 - 1.
"""

from __future__ import annotations

from typing import Any

# Revision numbers are PositiveIntegerField values: at most 2^31 - 1 on PostgreSQL.
MAX_REVISION_NUMBER = 2**31 - 1


def revision_number(text: str) -> int | None:
    """The revision number ``text`` names, or None if it names none."""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_REVISION_NUMBER else None


def posted_revision(data: Any, key: str = "revision") -> int | None:
    """The revision number a form posted (the one its page showed), or None."""
    value = data.get(key, "")
    return revision_number(value) if isinstance(value, str) else None


class RevisionNumberConverter:
    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = revision_number(value)
        if number is None:
            raise ValueError(value)  # no match: a 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)
