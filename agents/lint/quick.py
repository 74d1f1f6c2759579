"""The phrase patterns' matches, found without running the regex engine over every character.

``finditer(pattern, text)`` and ``search(pattern, text)`` give exactly what
``pattern.finditer(text)`` and ``pattern.search(text)`` give. They are faster because most
phrases are absent from most prompts, and a case-insensitive pattern costs the regex engine a
try at every character of a long prompt. Two facts about each pattern are read from the pattern
itself, with Python's own regex parser (so they cannot disagree with it):

- the literal words it cannot match without ("read-only" or "read only"): a text that lacks one of
  them is not searched at all (``str`` ``in`` on the lower-cased text is many times faster);
- the words every match starts with ("never", "not", "cannot", ...): the pattern is tried only
  where one of them is, with ``pattern.match(text, position)``, which is what the engine's own
  search does at each position it tries.

Both use the text with its ASCII letters lower-cased, whose characters sit at the same offsets
as the text's (see ``fold``). A pattern the parser gives nothing for is searched in full, as
before. The tests compare both with the engine on texts sampled from the patterns themselves.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

try:  # Python's own regex parser (private, stable since 3.11); without it, search in full.
    from re import _constants as _sre
    from re import _parser as _sre_parser
except ImportError:  # pragma: no cover
    _sre = _sre_parser = None

# Characters the regex engine, ignoring case, takes for an ASCII letter though ``lower()`` does
# not give that letter (dotless i, long s; dotted capital I even lowers to two characters). A
# text with one of them is searched in full. (The fourth, the Kelvin sign, lowers to "k".)
_CASE_ODD = ("\u0131", "\u017f", "\u0130")
_KELVIN = "\u212a"
_MAX_CHOICES = 64  # the strings a run of literal items may spell, at most
_MIN_WORD = 3  # a shorter ASCII literal is in nearly every text: not worth checking for
_MAX_PLACES = 1 / 16  # more places to try than this share of the text: the engine is faster


def fold(text: str) -> str | None:
    """``text`` with its ASCII letters lower-cased (and the Kelvin sign made "k"), each character
    at its own offset; None when that could hide a match (see ``_CASE_ODD``).

    Only ASCII letters matter: every word looked for is ASCII or has no case (``_plain``), and
    the engine takes no other character for an ASCII letter but the odd ones."""
    if text.isascii():  # isascii() reads no character
        return text.lower()
    if any(odd in text for odd in _CASE_ODD):
        return None
    # In UTF-8 every byte of a non-ASCII character is above 127, where bytes.lower() changes
    # nothing: 3x faster than str.lower(), which looks up each character's case (40 us for a
    # prompt with an em dash in it).
    lowered = text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")
    return lowered.replace(_KELVIN, "k")


def finditer(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, faster."""
    plan = _plan(pattern)
    folded = _folded(text) if plan.needed or plan.heads else None
    if folded is None or folded.lower is None:
        yield from pattern.finditer(text)
        return
    if not folded.has_all(plan.needed):
        return
    places = folded.places(plan.heads) if plan.heads else None
    if places is None:
        yield from pattern.finditer(text)
        return
    # What finditer does: the first match from ``position`` on, then on from its end. Only the
    # places where a match can start are tried (the patterns here never match empty).
    position = 0
    for place in places:
        if place < position:
            continue
        match = pattern.match(text, place)
        if match:
            yield match
            position = match.end()


def may_match(patterns: list[re.Pattern[str]], text: str) -> list[re.Pattern[str]]:
    """The members of ``patterns`` that ``finditer`` does not skip at once for lack of a word,
    in order. A phrase list is mostly patterns a text lacks the words of: they cost a dictionary
    look-up each here, not a generator and two look-ups of plan and text."""
    folded = _folded(text)
    if folded.lower is None:
        return list(patterns)
    has_all, plans = folded.has_all, _PLANS
    possible = []
    for pattern in patterns:
        known = plans.get(id(pattern))
        plan = known[1] if known is not None and known[0] is pattern else _plan(pattern)
        if has_all(plan.needed):
            possible.append(pattern)
    return possible


def search(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """``pattern.search(text)``, faster."""
    return next(finditer(pattern, text), None)


# --- One text, lower-cased once -------------------------------------------------------------


class _Folded:
    """A text lower-cased, with which words it has and where, worked out as asked and kept.

    Kept by word, not by pattern: the phrase lists share most of their words ("write", "file",
    "never", "use"), and looking for a word costs a pass over the text.
    """

    __slots__ = ("lower", "_ascii", "_first", "_has", "_heads", "_places")

    def __init__(self, text: str):
        self.lower = fold(text)
        # A text of ASCII only has none of the Chinese, Japanese or Korean words: no pass needed.
        self._ascii = self.lower is not None and self.lower.isascii()
        self._first: dict[str, int] = {}  # word -> its first offset, or -1
        self._has: dict[frozenset[str], bool] = {}
        self._heads: dict[str, list[int] | None] = {}
        self._places: dict[frozenset[str], list[int] | None] = {}

    def first(self, word: str) -> int:
        """The offset of the first ``word`` in the lower-cased text, or -1."""
        at = self._first.get(word)
        if at is None:
            at = self._look_for(word)
        return at

    def _look_for(self, word: str) -> int:
        at = -1 if self._ascii and not word.isascii() else self.lower.find(word)
        self._first[word] = at
        if at < 0:
            # A word that is not there is not there inside a longer one either.
            for longer in _CONTAINING.get(word, ()):
                self._first[longer] = -1
        return at

    def has_all(self, needed: tuple[frozenset[str], ...]) -> bool:
        """Whether the text has a word of each set."""
        # What is known already first: a set another pattern found missing costs no pass.
        # (Written out in loops: this runs some 40 times a file, mostly to say no.)
        has = self._has
        unknown = None
        for choice in needed:
            found = has.get(choice)
            if found is None:
                unknown = [choice] if unknown is None else [*unknown, choice]
            elif not found:
                return False
        if unknown is None:
            return True
        known = self._first
        for choice in unknown:
            # A word known to be there answers without a pass; else look for the others.
            missing = []
            found = False
            for word in choice:
                at = known.get(word)
                if at is None:
                    missing.append(word)
                elif at >= 0:
                    found = True
                    break
            if not found:
                for word in missing:
                    if self._look_for(word) >= 0:
                        found = True
                        break
            has[choice] = found
            if not found:
                return False
        return True

    def places(self, heads: frozenset[str]) -> list[int] | None:
        """Every offset where one of ``heads`` starts, in order; None when there are so many
        that trying each costs more than the engine's own search."""
        if heads not in self._places:
            self._places[heads] = self._find_places(heads)
        return self._places[heads]

    def _find_places(self, heads: frozenset[str]) -> list[int] | None:
        limit = max(16, int(len(self.lower) * _MAX_PLACES))
        places: list[int] = []
        for head in heads:
            found = self._head_places(head, limit)
            if found is None:
                return None
            places += found
            if len(places) > limit:
                return None
        places.sort()
        return places

    def _head_places(self, head: str, limit: int) -> list[int] | None:
        """Every offset where ``head`` starts, or None when there are more than ``limit``.
        Kept by head: several patterns start with the same words (the negations, "use")."""
        if head in self._heads:
            return self._heads[head]
        at = self.first(head)
        places: list[int] | None = []
        while at >= 0:
            places.append(at)
            if len(places) > limit:
                places = None
                break
            at = self.lower.find(head, at + 1)
        self._heads[head] = places
        return places


@functools.lru_cache(maxsize=8)
def _folded(text: str) -> _Folded:
    # The rules search the same description and body with one pattern list after another.
    return _Folded(text)


# --- What a pattern needs, read from its parse ------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    needed: tuple[frozenset[str], ...]  # a member of each is in every match
    heads: frozenset[str] | None  # every match starts with one of these


# Kept by the pattern's id (the pattern is kept too, so the id stays its own): hashing a compiled
# pattern hashes its whole program, 1.5 us a look-up for the long phrases.
_PLANS: dict[int, tuple[re.Pattern[str], _Plan]] = {}
# Each word any plan looks for -> the longer ones that contain it ("edit" -> "edits").
_CONTAINING: dict[str, list[str]] = {}


def _plan(pattern: re.Pattern[str]) -> _Plan:
    known = _PLANS.get(id(pattern))
    if known is not None and known[0] is pattern:
        return known[1]
    plan = _read_plan(pattern)
    _PLANS[id(pattern)] = (pattern, plan)
    for word in {*(word for choice in plan.needed for word in choice), *(plan.heads or ())}:
        if word not in _CONTAINING:
            # Over copies: another thread may be adding a plan's words (a missed pair only
            # costs a pass; every pair recorded is true).
            _CONTAINING[word] = [other for other in list(_CONTAINING) if word in other]
            for other, longer in list(_CONTAINING.items()):
                if other in word and other != word:
                    longer.append(word)
    return plan


def _read_plan(pattern: re.Pattern[str]) -> _Plan:
    if _sre_parser is None:  # pragma: no cover
        return _Plan((), None)
    try:
        parsed = _sre_parser.parse(pattern.pattern, pattern.flags)
        _, needed = _literals(parsed)
        heads = _heads(parsed) if parsed.getwidth()[0] > 0 else None
    except Exception:  # noqa: BLE001 (a parser that reads differently: search in full)
        return _Plan((), None)
    useful = {_least(choice) for choice in needed if all(map(_telling, choice))}
    if heads is not None and ("" in heads or not all(heads)):
        heads = None
    # Nearly every set a text is looked at for is missing, and proving a set missing costs a pass
    # for each of its words: the smallest sets first, then the longest (rarest) words.
    return _Plan(
        tuple(
            sorted(useful, key=lambda choice: (len(choice), -min(map(len, choice)), sorted(choice)))
        ),
        _least_heads(heads) if heads else None,
    )


def _telling(word: str) -> bool:
    """Worth looking for: a short English word is in nearly every text, while one Chinese,
    Japanese or Korean character is already rare."""
    return len(word) >= _MIN_WORD or (word != "" and not word.isascii())


def _least(choice: set[str]) -> frozenset[str]:
    """The members no other member is part of: every text with 'files' has 'file'."""
    return frozenset(w for w in choice if not any(o != w and o in w for o in choice))


def _least_heads(heads: set[str]) -> frozenset[str]:
    """The members no other member starts: every place 'not' starts, 'no' starts."""
    return frozenset(w for w in heads if not any(o != w and w.startswith(o) for o in heads))


def _plain(char: str) -> bool:
    """Whether a literal of a pattern can be looked for in lower-cased text: ASCII (the odd
    cases are ruled out by ``fold``) or a character without case (Chinese, punctuation)."""
    return char.isascii() or char.lower() == char.upper()


def _literals(items) -> tuple[set[str] | None, list[set[str]]]:
    """For a parsed sequence: (every string it can match, when they are few and literal, else
    None; a list of sets, each with a member in every match)."""
    needed: list[set[str]] = []
    run: set[str] = {""}  # the strings the current run of literal items can spell
    exact = True

    def close(run: set[str]) -> None:
        if "" not in run:
            needed.append(run)

    for item in items:
        choices, inner = _item(item)
        needed.extend(inner)
        if choices is None:
            close(run)
            run, exact = {""}, False
        elif len(run) * len(choices) > _MAX_CHOICES:
            close(run)
            run, exact = set(choices), False
        else:
            run = {a + b for a in run for b in choices}
    close(run)
    return (run if exact else None), needed


def _item(item) -> tuple[set[str] | None, list[set[str]]]:
    """``_literals`` for one parsed item."""
    op, av = item
    if op is _sre.LITERAL:
        return ({chr(av).lower()} if _plain(chr(av)) else None), []
    if op is _sre.IN:
        chars = set()
        for member, value in av:
            if member is not _sre.LITERAL or not _plain(chr(value)):
                return None, []
            chars.add(chr(value).lower())
        return chars, []
    if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
        return {""}, []  # zero-width: adds nothing to what is matched
    if op is _sre.SUBPATTERN:
        return _literals(av[3])
    if op is _sre.ATOMIC_GROUP:
        return _literals(av)
    if op is _sre.BRANCH:
        return _branch([_literals(branch) for branch in av[1]])
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, high, body = av
        choices, inner = _literals(body)
        if low == 0:
            return ((choices | {""}) if high == 1 and choices is not None else None), []
        if low == high == 1:
            return choices, inner
        return None, inner + ([choices] if choices and "" not in choices else [])
    return None, []  # any character, a category, a range, a back-reference...


def _branch(branches) -> tuple[set[str] | None, list[set[str]]]:
    if all(choices is not None for choices, _ in branches):
        everything = set().union(*(choices for choices, _ in branches))
        if len(everything) <= _MAX_CHOICES:
            return everything, []
    # Each branch's most telling set (its own strings, or one it needs): one of them is there.
    some: set[str] = set()
    for choices, inner in branches:
        candidates = [*inner, *([choices] if choices and "" not in choices else [])]
        if not candidates:
            return None, []
        some |= max(candidates, key=lambda choice: min(map(len, choice)))
    return None, [some]


def _heads(items) -> set[str] | None:
    """The strings every match of a parsed sequence starts with, or None if unknown."""
    run: set[str] = {""}
    for item in items:
        choices, _ = _item(item)
        if choices is not None and len(run) * len(choices) <= _MAX_CHOICES:
            run = {a + b for a in run for b in choices}
            continue
        heads = _item_heads(item)
        if heads is not None and len(run) * len(heads) <= _MAX_CHOICES:
            run = {a + b for a in run for b in heads}
        break
    return run


def _item_heads(item) -> set[str] | None:
    op, av = item
    if op is _sre.SUBPATTERN:
        return _heads(av[3])
    if op is _sre.ATOMIC_GROUP:
        return _heads(av)
    if op is _sre.BRANCH:
        every = [_heads(branch) for branch in av[1]]
        if any(heads is None for heads in every):
            return None
        return set().union(*every)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _heads(av[2])
    return None
