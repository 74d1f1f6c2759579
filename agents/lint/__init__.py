"""Agent lint: what loads but will not work. Pure rules, no database, no Django.

``lint(parsed)`` gives the findings about one parsed file, ``lint_collection(files)`` those about
agents installed together, ``lint_text(text, filename)`` parses and lints. ``python -m agents.lint
PATH...`` runs it on any repository; ``manage.py lint_agents`` on the portal's agents.
"""

from __future__ import annotations

from .collection import (
    DESCRIPTION_TOKEN_BUDGET,
    SIMILARITY_METHOD,
    SIMILARITY_THRESHOLD,
    lint_collection,
    similar_pairs,
)
from .rules import (
    DESCRIPTION_TOKEN_LIMIT,
    ERROR,
    INFO,
    RULES,
    WARNING,
    ContextCost,
    Finding,
    Rule,
    builtin_registry,
    context_cost,
    diff_findings,
    lint,
    lint_text,
)
from .text import ESTIMATE_METHOD, estimate_tokens

__all__ = [
    "DESCRIPTION_TOKEN_BUDGET",
    "DESCRIPTION_TOKEN_LIMIT",
    "ERROR",
    "INFO",
    "RULES",
    "SIMILARITY_METHOD",
    "SIMILARITY_THRESHOLD",
    "ESTIMATE_METHOD",
    "WARNING",
    "ContextCost",
    "Finding",
    "Rule",
    "builtin_registry",
    "context_cost",
    "diff_findings",
    "estimate_tokens",
    "lint",
    "lint_collection",
    "lint_text",
    "similar_pairs",
]
