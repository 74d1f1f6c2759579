"""Small tools the tests share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_of(action: Callable[[], Any]) -> list[str]:
    """The SQL of the queries ``action`` runs, in order."""
    with CaptureQueriesContext(connection) as context:
        action()
    return [query["sql"] for query in context.captured_queries]


def assert_same_query_count(action: Callable[[], Any], grow: Callable[[], Any]) -> int:
    """Run ``action``, ``grow`` the data, run ``action`` again: the query count must not change.

    Compares the two counts instead of pinning a total, so removing a wasted query never fails a
    test; returns the count, for a test that also wants to bound it.
    """
    before = queries_of(action)
    grow()
    after = queries_of(action)
    assert len(after) == len(before), "\n".join(
        [f"{len(before)} queries before, {len(after)} after the data grew:", *after]
    )
    return len(after)


def query_counts(*actions: Callable[[], Any]) -> list[int]:
    """How many queries each action runs: pages for small and large data must run as many."""
    return [len(queries_of(action)) for action in actions]
