"""Lint's fast phrase search says exactly what the regex engine says.

``agents.lint.quick`` skips texts that lack a pattern's words and tries a pattern only where a
match can start; ``text.prose`` finds fences without a regex at every character. The oracle for
each is the plain way: ``pattern.finditer`` itself, and the line-by-line ``prose`` lint had
before.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

try:
    from re import _constants as sre
    from re import _parser as sre_parser
except ImportError:  # pragma: no cover
    pytest.skip("another Python's regex parser", allow_module_level=True)

from agents.lint import lint_text, quick
from agents.lint import text as words

PROJECT = Path(__file__).resolve().parent.parent
PATTERNS = [
    pattern
    for name in (
        "READ_ONLY_FILES",
        "READ_ONLY_COMMANDS",
        "NEEDS_COMMANDS",
        "NEEDS_WEB",
        "NEEDS_EDITS",
        "SUGGESTS_EDITS",
        "TRIGGERS",
    )
    for pattern in getattr(words, name)
]
# Characters the regex engine, ignoring case, matches differently from str.lower(): dotless i,
# long s, dotted capital I, the Kelvin sign.
ODD = ["\u0131", "\u017f", "\u0130", "\u212a"]
SEPARATORS = [" ", "  ", "\n", "\t", "-", ".", ",", "`", "(", ")", ":", "**", "", *ODD]


def spans(matches) -> list[tuple[tuple[int, int], str]]:
    return [(match.span(), match.group(0)) for match in matches]


def sample(rng: random.Random, parsed) -> str:
    """A string the parsed pattern (re._parser's tree) matches, or nearly: each literal in a
    random case, each repeat a random number of times."""
    out = []
    for op, av in parsed:
        if op is sre.LITERAL:
            char = chr(av)
            out.append(rng.choice([char, char.upper(), char.lower()]))
        elif op is sre.NOT_LITERAL:
            out.append("#")
        elif op is sre.ANY:
            out.append(rng.choice("x .\n"))
        elif op is sre.IN:
            out.append(sample_class(rng, av))
        elif op is sre.BRANCH:
            out.append(sample(rng, rng.choice(av[1])))
        elif op is sre.SUBPATTERN:
            out.append(sample(rng, av[3]))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, body = av
            times = rng.randint(low, min(high, low + 2))
            out.extend(sample(rng, body) for _ in range(times))
        elif op is sre.ATOMIC_GROUP:
            out.append(sample(rng, av))
    return "".join(out)


def sample_class(rng: random.Random, members) -> str:
    op, av = rng.choice(members)
    if op is sre.LITERAL:
        return chr(av)
    if op is sre.RANGE:
        return chr(rng.randint(*av))
    if op is sre.CATEGORY:
        if av is sre.CATEGORY_SPACE:
            return rng.choice(" \n\t")
        if av in (sre.CATEGORY_WORD, sre.CATEGORY_DIGIT):
            return rng.choice("ab7_")
        return rng.choice(".,;!)")
    return "#"  # a negated class


def phrase_soup(rng: random.Random, parsed: list) -> str:
    """Phrases the patterns match (or nearly), in any case, joined by separators or run together
    so that matches overlap, with an odd character here and there ("wrıte", "ſearch")."""
    out = []
    for _ in range(rng.randint(1, 8)):
        phrase = sample(rng, rng.choice(parsed))
        if phrase and rng.random() < 0.1:
            at = rng.randrange(len(phrase))
            phrase = phrase[:at] + rng.choice(ODD) + phrase[at + 1 :]
        if rng.random() < 0.2:
            phrase = phrase.upper()
        out.append(phrase + rng.choice(SEPARATORS))
    return "".join(out)


def test_quick_search_finds_every_match_the_regex_engine_finds():
    rng = random.Random(11)
    parsed = [sre_parser.parse(pattern.pattern, pattern.flags) for pattern in PATTERNS]
    matched = overlapping = 0
    for _ in range(3000):
        text = phrase_soup(rng, parsed)
        for pattern in PATTERNS:
            expected = spans(pattern.finditer(text))
            assert spans(quick.finditer(pattern, text)) == expected, (pattern.pattern, text)
            assert (quick.search(pattern, text) is None) == (not expected)
            matched += bool(expected)
            overlapping += len(expected) > 1
    # The texts do hit the phrases, often more than once, not only miss them.
    assert matched > 4000
    assert overlapping > 300


@pytest.mark.parametrize(
    "text",
    [
        "You are READ-ONLY: never modify files.",
        "You are read\u2011only, and you nEVER MODIFY ANY FILES.",
        "you do not wr\u0131te files",  # dotless i: the engine matches it, str.lower() keeps it
        "Do not modify any \u017fource code",  # long s
        "N\u0130ver run commands; never modify \u0130 files",  # dotted I lowers to two characters
        "use the Bash tool to run `npm test`; \u212aeep going",
        "You must never ma\u212ae changes \u2014 report them",  # Kelvin sign: taken for k
        "Please search the web. Then search the WEB again.",
        "必须使用 when the user asks; 使用してください",
    ],
)
def test_quick_search_agrees_on_odd_cases(text):
    for pattern in PATTERNS:
        assert spans(quick.finditer(pattern, text)) == spans(pattern.finditer(text))


def test_a_capitalised_read_only_claim_is_still_found():
    agent = "---\nname: auditor\ndescription: Use when auditing.\ntools: Read, Edit\n---\n\n"
    found = lint_text(agent + "YOU ARE READ-ONLY. NEVER MODIFY FILES.\n", "auditor.md")
    assert [f.rule for f in found] == ["read-only-with-write-tools"]
    assert 'prompt says "YOU ARE READ-ONLY"' in found[0].message


def old_prose(text: str) -> str:
    """prose() as lint first had it: line by line."""
    text = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    out: list[str] = []
    fence = None
    for line in text.split("\n"):
        match = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
            out.append("")
        else:
            out.append("" if fence else line.replace("**", "").replace("__", ""))
    return "\n".join(out)


def test_prose_blanks_the_same_fences_and_comments_as_line_by_line():
    pieces = ["```", "````", "~~~", "~~~~", " ```", "    ```", "   ~~~", "\n", "\n", "\n"]
    pieces += ["run", "**", "__", "*", "<!--", "-->", " ", "x\r", "bash", "`"]
    rng = random.Random(5)
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        assert words.prose(text) == old_prose(text), text


def corpus() -> Path:
    folder = PROJECT.parent / "shared" / "corpus" / "agents"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the shared test data lives beside the project")
    return folder


def test_lint_of_every_corpus_file_is_the_same_with_the_plain_regex_engine(monkeypatch):
    files = [(path.name, path.read_bytes()) for path in sorted(corpus().rglob("*.md"))]
    fast = [lint_text(content, name) for name, content in files]
    monkeypatch.setattr(quick, "finditer", lambda pattern, text: pattern.finditer(text))
    monkeypatch.setattr(quick, "search", lambda pattern, text: pattern.search(text))
    monkeypatch.setattr(words, "prose", old_prose)
    plain = [lint_text(content, name) for name, content in files]
    assert fast == plain
    assert sum(map(len, fast)) > 1000


def test_words_looked_for_once_a_text_agree_with_the_engine_in_any_order():
    # A text is searched once for each word, whichever pattern asks first, and a word found
    # missing marks the longer words containing it missing too ("edit" -> "edits"). Texts with a
    # word's shorter or longer relatives only, patterns asked in a random order each time.
    everything = sorted(
        {
            word
            for pattern in PATTERNS
            for plan in [quick._plan(pattern)]
            for word in [*(w for choice in plan.needed for w in choice), *(plan.heads or ())]
        }
    )
    rng = random.Random(7)
    parsed = [sre_parser.parse(pattern.pattern, pattern.flags) for pattern in PATTERNS]
    for _ in range(1500):
        parts = []
        for _ in range(rng.randint(1, 12)):
            word = rng.choice(everything)
            cut = rng.choice([word, word[1:], word[:-1], word + "s", word.upper(), "un" + word])
            parts.append(cut + rng.choice(SEPARATORS))
        if rng.random() < 0.5:
            parts.append(phrase_soup(rng, parsed))
        text = "".join(parts)
        order = list(PATTERNS)
        rng.shuffle(order)
        possible = quick.may_match(order, text)
        for pattern in order:
            expected = spans(pattern.finditer(text))
            assert spans(quick.finditer(pattern, text)) == expected, (pattern.pattern, text)
            assert pattern in possible or not expected, (pattern.pattern, text)


def test_shell_fences_are_found_as_the_engine_finds_them():
    pieces = ["```", "````", "~~~", " ```", "    ```", "   ~~~", "\n", "\n", "\n", "bash", "sh"]
    pieces += ["shell", "Bash", " ", "zsh", "powershell", "x", "\r", "`", "console", "python"]
    rng = random.Random(3)
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        assert words.shows_commands(text) == bool(words._SHELL_FENCE_RE.search(text)), text


def old_split_tools(text: str) -> list[str]:
    """split_tools on a string as it first was: character by character."""
    names, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        if char == "," and depth == 0:
            names.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    names.append("".join(current).strip())
    return [name for name in names if name]


def test_tool_lines_split_as_character_by_character():
    from agents import agentfile

    pieces = ["Read", "Bash", ",", ",", " ", "  ", "(", ")", "git diff:*", "\t", "\n", "mcp__x__y"]
    rng = random.Random(9)
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert agentfile.split_tools(text) == old_split_tools(text), text


def test_fold_lowers_the_ascii_letters_in_place_and_nothing_else():
    # What the phrase words can be checked against: the engine, ignoring case, takes only A-Z
    # (and the odd characters, which fold refuses, and the Kelvin sign) for a-z.
    pieces = ["A", "b", "Z", "q", " ", "\u00c9", "\u0141", "\u03a9", "\u00df", "\u4f7f", "\u2014"]
    pieces += ["\u212a", "\U0001f600", "\ud800", "\u0178", "\u0130"]
    rng = random.Random(13)
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        if "\u0130" in text:
            assert quick.fold(text) is None
            continue
        expected = "".join("k" if c == "\u212a" else c.lower() if c.isascii() else c for c in text)
        assert quick.fold(text) == expected, text
