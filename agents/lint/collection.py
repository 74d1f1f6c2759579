"""Rules about agents installed together: descriptions too alike to tell apart, and the tokens
all their descriptions spend in the main conversation.

A collection is whatever is installed together: a plugin, a project's ``.claude/agents/``, the
files given to one run of the command-line linter, or the portal's agents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from .. import agentfile
from . import text as words
from .rules import Finding, context_cost, finding

# Claude Code itself warns "Large cumulative agent descriptions will impact performance" past
# 15,000 tokens (see the README's lint section).
DESCRIPTION_TOKEN_BUDGET = 15_000
# rapidfuzz's token_set_ratio of the descriptions (lowercased, punctuation removed, <example>
# blocks left out), 0-100. Chosen from the corpus: the README lists the closest pairs.
SIMILARITY_THRESHOLD = 90
SIMILARITY_METHOD = "rapidfuzz token_set_ratio"


@dataclass(frozen=True)
class Similar:
    first: str
    second: str
    score: float


_NOT_WORD_RE = re.compile(r"[^\w+#]+")


def comparable(description: str) -> str:
    """What two descriptions are compared on: their own words, lowercased, without punctuation
    (but C++, C# and F# stay themselves) and without <example> blocks."""
    text = words.EXAMPLE_RE.sub(" ", description).lower()
    return " ".join(_NOT_WORD_RE.sub(" ", text).replace("_", " ").split())


def _named_apart(words_a: set[str], words_b: set[str], name_a: str, name_b: str) -> bool:
    """Whether one description has a word of its own agent's name that the other lacks: then
    that word (python / typescript, aws / azure) tells Claude which agent is which."""

    def named(unique: set[str], name: str) -> bool:
        parts = [part for part in re.split(r"[^a-z0-9]+", name.lower()) if len(part) >= 2]
        return any(
            word.startswith(part)
            or (len(word) >= 3 and part.startswith(word))
            or len(os.path.commonprefix([word, part])) >= 5
            for word in unique
            for part in parts
        )

    return named(words_a - words_b, name_a) or named(words_b - words_a, name_b)


def _mentions(text: str, name: str) -> bool:
    """Whether a description names another agent ("... use presentation-vibe-coding instead")."""
    spoken = comparable(name.replace("-", " "))
    return len(spoken) >= 3 and f" {spoken} " in f" {text} "


def similar_pairs(
    descriptions: Mapping[str, str],
    threshold: float = SIMILARITY_THRESHOLD,
    names: Mapping[str, str] | None = None,
) -> list[Similar]:
    """Pairs of labels whose descriptions score ``threshold`` or more, best first, leaving out
    pairs told apart by the words of their names (see ``_named_apart``)."""
    names = names or {}
    labels = [label for label, text in descriptions.items() if comparable(text)]
    texts = [comparable(descriptions[label]) for label in labels]
    word_sets = [set(text.split()) for text in texts]
    pairs = []
    for i, text in enumerate(texts[:-1]):
        # process.extract runs the scorer in C over the rest; cdist would need numpy.
        for _, score, offset in process.extract(
            text,
            texts[i + 1 :],
            scorer=fuzz.token_set_ratio,
            score_cutoff=threshold,
            limit=None,
        ):
            j = i + 1 + offset
            first, second = labels[i], labels[j]
            name_i, name_j = names.get(first, ""), names.get(second, "")
            if (
                _named_apart(word_sets[i], word_sets[j], name_i, name_j)
                or _mentions(texts[i], name_j)
                or _mentions(texts[j], name_i)
            ):
                continue
            pairs.append(Similar(first, second, float(score)))
    return sorted(pairs, key=lambda pair: -pair.score)


def lint_collection(
    files: Mapping[str, agentfile.ParsedFile] | Iterable[tuple[str, agentfile.ParsedFile]],
    *,
    budget: int = DESCRIPTION_TOKEN_BUDGET,
    threshold: float = SIMILARITY_THRESHOLD,
) -> list[Finding]:
    """Findings about agents installed together, each naming the file (label) it concerns.

    ``files`` maps a label (a path, or an agent's name in the portal) to its parsed file.
    """
    files = dict(files.items() if isinstance(files, Mapping) else files)
    found: list[Finding] = []

    descriptions = {
        label: parsed.frontmatter.get("description")
        for label, parsed in files.items()
        if isinstance(parsed.frontmatter.get("description"), str)
    }
    names = {label: str(parsed.frontmatter.get("name", label)) for label, parsed in files.items()}
    for pair in similar_pairs(descriptions, threshold, names):
        for label, other in ((pair.first, pair.second), (pair.second, pair.first)):
            parsed = files[label]
            found.append(
                replace(
                    finding(
                        "similar-descriptions",
                        f"the description is {pair.score:.0f}% alike that of '{names[other]}' "
                        f"({other}), so Claude cannot tell when to pick which: say what sets "
                        f"each apart ({SIMILARITY_METHOD} >= {threshold:.0f})",
                        parsed.line_of("description"),
                        "description",
                    ),
                    file=label,
                )
            )

    costs = {label: context_cost(parsed) for label, parsed in files.items()}
    total = sum(cost.description for cost in costs.values())
    if costs and total > budget:
        label = max(costs, key=lambda key: costs[key].description)
        cost = costs[label]
        examples = sum(c.examples for c in costs.values())
        found.append(
            replace(
                finding(
                    "description-budget",
                    f"the {len(costs)} agents' descriptions together cost ~{total:,} tokens of "
                    f"the main conversation, over the budget of {budget:,} "
                    f"(~{examples:,} of them in <example> blocks; {words.ESTIMATE_METHOD}); this "
                    f"one is the longest (~{cost.description:,}): shorten it first",
                    files[label].line_of("description"),
                    "description",
                ),
                file=label,
            )
        )
    return found
