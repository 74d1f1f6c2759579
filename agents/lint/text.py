"""Reading an agent's words: its prose (code fences left out), the phrases the rules look for, and
the estimated token cost of a piece of text.

The phrase patterns are English, plus the delegation phrases of the other languages found in the
corpus (Japanese, Korean, Chinese, French). They were tuned on ``../shared/corpus/`` by reading
the hits (see the README's lint section); each pattern says what it is for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from . import quick

# --- Prose ----------------------------------------------------------------------------------

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
EXAMPLE_RE = re.compile(r"<example\b[^>]*>.*?(?:</example>|\Z)", re.S | re.I)


def prose(text: str) -> str:
    """``text`` with fenced code blocks and HTML comments blanked out, line breaks kept.

    Keeping every line break keeps offsets meaningful: a match's line is the count of line breaks
    before it.
    """
    if "<!--" in text:
        text = _HTML_COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    out: list[str] = []
    fence: str | None = None
    done = 0  # the text before this is in ``out``
    for match in _fence_lines(text):
        out.append(_blank(text[done : match.start()], fence))
        marker = match.group(1)
        if fence is None:
            fence = marker
        elif marker[0] == fence[0] and len(marker) >= len(fence):
            fence = None
        # The fence line itself is left out (its line break stays).
        done = text.find("\n", match.end())
        done = len(text) if done < 0 else done
    out.append(_blank(text[done:], fence))
    return "".join(out)


_FENCE_LINE_RE = re.compile(_FENCE_RE.pattern, re.M)


def _fence_lines(text: str) -> Iterator[re.Match[str]]:
    """``_FENCE_LINE_RE.finditer(text)``: each line a fence opens or closes, in order. Looked
    for where the text has three backticks or tildes, not tried at every character."""
    starts = set()
    for marker in ("```", "~~~"):
        at = text.find(marker)
        while at >= 0:
            line_start = text.rfind("\n", 0, at) + 1
            if at - line_start <= 3:
                starts.add(line_start)
            line_end = text.find("\n", at)
            at = text.find(marker, line_end) if line_end >= 0 else -1
    for line_start in sorted(starts):
        match = _FENCE_LINE_RE.match(text, line_start)
        if match:
            yield match


def _blank(lines: str, fence: str | None) -> str:
    """Whole lines of ``prose``'s text: only their line breaks inside a fence; elsewhere without
    bold and italic markers, which split phrases ("You are **read-only**")."""
    if fence:
        return "\n" * lines.count("\n")
    return lines.replace("**", "").replace("__", "")


@dataclass(frozen=True)
class Phrase:
    """A phrase found in the text: the words matched and the 0-based line they are on."""

    text: str
    line: int


def _one_line(text: str) -> str:
    return " ".join(text.split())


def find(
    patterns: list[re.Pattern[str]], text: str, *, unless_before: re.Pattern[str] | None = None
) -> Phrase | None:
    """The first phrase any pattern matches outside inline code, skipping those that
    ``unless_before`` matches in the words just before (up to 60 characters on the same line)."""
    best: tuple[int, str] | None = None
    for pattern in quick.may_match(patterns, text):
        for match in quick.finditer(pattern, text):
            start = match.start()
            line_start = text.rfind("\n", 0, start) + 1
            if text.count("`", line_start, start) % 2:
                continue  # inside `inline code`: a command shown, not an instruction
            before = text[max(line_start, start - 60) : start]
            if unless_before is not None and unless_before.search(before):
                continue
            if best is None or match.start() < best[0]:
                best = (match.start(), match.group(0))
            break
    if best is None:
        return None
    return Phrase(_one_line(best[1]), text.count("\n", 0, best[0]))


# --- What the prompt claims and asks ----------------------------------------------------------

_NEG = r"(?:never|not|n't|cannot|no longer)"
_ANY = r"(?:any\s+|the\s+|a\s+single\s+|existing\s+|source\s+|project\s+)*"
# The object of a change that covers everything: not "test files", not "files outside your scope".
_EVERYTHING = (
    r"(?:files?|code(?:base)?|source(?:\s+code)?|repositor(?:y|ies)|anything|project\s+files)\b"
    r"(?!\s+(?:outside|other|except|unless|that|which|in|under|belonging|owned|beyond|not|without"
    r"|you\s+(?:did|were|are)|created|listed|of|behaviou?r|functionality|structure|logic"
    r"|style|formatting|during|while|before|until|unrelated|related|to\s+(?:make|get|force)))"
)
# "says it must not change anything": read-only claims about files, and about commands.
READ_ONLY_FILES = [
    re.compile(
        r"\b(?:you\s+are|this\s+(?:agent|role)\s+is|operates?\s+in|(?:strictly|completely|purely"
        r"|remain|stay|is)\s+|\(|\bas\s+a)\s*(?:an?\s+)?read[- ]only\b(?!\s+(?:access|replica|"
        r"user|connection|transaction|database|queries|query|file\s*system|mount|volume|role\s+for))",
        re.I,
    ),
    re.compile(
        r"\bread[- ]only\s+(?:agent|mode|analysis|review|role|advisor|consultant|auditor)\b", re.I
    ),
    re.compile(r"^\W*read[- ]only\W*$", re.I | re.M),
    re.compile(
        rf"\b(?:{_NEG}|must\s+not|do\s+not|don't|should\s+not|will\s+not|won't|do\s+NOT)\s+"
        rf"(?:ever\s+)?(?:(?:create|write|edit|delete)\s*(?:,|or|and|/)\s*)*"
        rf"(?:modify|edit|change|write\s+to|alter|touch|delete|make\s+changes\s+to)\s+"
        rf"{_ANY}{_EVERYTHING}",
        re.I,
    ),
    # "never write code" is not read-only (a planner writes plans); "never write files" is.
    re.compile(
        rf"\b(?:{_NEG}|must\s+not|do\s+not|don't|should\s+not|will\s+not|won't)\s+"
        r"(?:ever\s+)?(?:write|create)\s+(?:any\s+)?(?:files|anything)\b"
        r"(?!\s+(?:outside|other|except|unless|that|which|in|under|beyond|not))",
        re.I,
    ),
    re.compile(
        rf"\b(?:{_NEG}|must\s+not|do\s+not|don't|should\s+not|will\s+not|won't)\s+make\s+"
        r"(?:any\s+)?(?:changes|modifications|edits|file\s+changes|code\s+changes)"
        r"(?:\s+to\s+(?:the\s+|any\s+)?(?:code(?:base)?|files?|repository|project|anything))?"
        r"\s*(?:[.;:!)\n]|$|—|-\s)",
        re.I,
    ),
    re.compile(
        r"\bwithout\s+(?:ever\s+)?(?:modifying|changing|editing|touching|writing\s+to)\s+"
        rf"(?:any\s+)?{_EVERYTHING}",
        re.I,
    ),
    re.compile(
        r"\bno\s+(?:file\s+|code\s+)?(?:modifications|edits|writes)\s+(?:allowed|permitted)\b", re.I
    ),
]
READ_ONLY_COMMANDS = [
    re.compile(
        r"\b(?:never|do\s+not|don't|must\s+not|should\s+not|cannot|can't|will\s+not|won't)\s+"
        r"(?:ever\s+)?(?:run|execute)\s+(?:any\s+)?(?:shell\s+|terminal\s+|bash\s+)?"
        r"(?:commands?|scripts?|programs?|code)\b(?!\s+(?:that|which|without|outside|with|in\s+"
        r"production|against|on\s+production|as\s+root))",
        re.I,
    ),
]

# A read-only phrase that describes a mode, not the agent ("preview changes without modifying
# files", "--dry-run").
READ_ONLY_MODE = re.compile(r"(?:preview|dry[- ]?run|simulat\w*|test\s+mode)\b[^.\n]*$", re.I)

# Work that needs a tool. ``unless_before`` words mean someone else does it ("ask the user to
# run the tests", "document how to run tests").
SOMEONE_ELSE = re.compile(
    r"(?:how\s+to|ask(?:ing|s)?\s+(?:the\s+)?(?:user|them|developers?|someone)\s+to|tell\s+"
    r"(?:the\s+)?(?:user|them)\s+to|(?:user|developer|they|you)\s+(?:can|could|should|may|must)"
    r"|instructions?\s+(?:to|for)|steps\s+to|commands?\s+to|recommend(?:ing|s)?|suggest(?:ing|s)?"
    r"|propos(?:e|ing)|advis(?:e|ing)|whether\s+to|and\s+then|CI\s+(?:will|should|to)|don't|"
    r"do\s+not|never|without|cannot|can't|not|before\s+you|which|that)\s*\W*$",
    re.I,
)
NEEDS_COMMANDS = [
    re.compile(
        r"\b(?:run|execute|re-?run)\s+(?:the\s+|all\s+|any\s+|existing\s+|relevant\s+|affected\s+|"
        r"full\s+|project\s+|your\s+|appropriate\s+|new\s+)*(?:unit\s+|integration\s+|e2e\s+|"
        r"end-to-end\s+|regression\s+|test\s+)?(?:tests?|test\s+suites?|specs|linters?|build|"
        r"type-?check(?:er|s|ing)?|shell\s+commands?|commands?|scripts?|migrations?|"
        r"benchmarks?)\b",
        re.I,
    ),
    # "run `npm test`", not "run `/some:slash-command`" (a message for the user)
    re.compile(r"\brun\s+`(?!/)[^`\n]+`", re.I),
    re.compile(r"\buse\s+(?:the\s+)?Bash(?:\s+tool)?\b"),
]
NEEDS_WEB = [
    re.compile(
        r"\b(?:search|browse|scour|searching|browsing)\s+(?:the\s+)?(?:web|internet)\b", re.I
    ),
    re.compile(r"\b(?:web\s+search(?:es)?|search\s+online|online\s+search(?:es)?)\b", re.I),
    re.compile(r"\buse\s+(?:the\s+)?Web(?:Search|Fetch)\b"),
    re.compile(
        r"\bfetch(?:es|ing)?\s+(?:the\s+)?(?:latest\s+|official\s+|current\s+|up-to-date\s+|"
        r"external\s+)*(?:documentation|docs|web\s*pages?|urls?|websites?)\b",
        re.I,
    ),
]
NEEDS_EDITS = [
    re.compile(
        r"\b(?:edit|modify|update|patch)\s+(?:the\s+|this\s+|that\s+|these\s+|those\s+|"
        r"existing\s+|relevant\s+|affected\s+|source\s+|target\s+)*(?:files?|code(?:base)?)\b"
        r"(?!\s+(?:review|quality|style))",
        re.I,
    ),
    re.compile(
        r"\b(?:write|create|save)\s+(?:the\s+|a\s+|an\s+|new\s+|missing\s+)*(?:files?|"
        r"test\s+files?|markdown\s+files?|[A-Z_]+\.md)\b",
        re.I,
    ),
    re.compile(r"\bapply\s+(?:the\s+)?(?:fix(?:es)?|changes|edits|patch(?:es)?)\b", re.I),
    re.compile(r"\buse\s+(?:the\s+)?(?:Edit|Write|MultiEdit)(?:\s+tool)?\b"),
]

# Weaker signs, only used to suggest a 'tools' line for an agent that has none.
SUGGESTS_EDITS = [
    re.compile(
        r"\b(?:implement\w*|refactor\w*|writ(?:e|es|ing)\s+(?:the\s+|clean\s+|new\s+)?(?:code|tests?)"
        r"|fix(?:es|ing)?\s+(?:the\s+)?(?:\w+\s+)?(?:bugs?|issues?|code|errors?|tests?)|generat\w+\s+(?:code|tests?|files?)"
        r"|creat\w+\s+(?:the\s+|new\s+)?(?:files?|components?|tests?|modules?|scripts?))\b",
        re.I,
    ),
    *NEEDS_EDITS,
]
_SHELL_FENCE_RE = re.compile(
    r"^ {0,3}(?:`{3,}|~{3,})\s*(?:bash|sh|shell|console|zsh|powershell)\b", re.M
)


def shows_commands(body: str) -> bool:
    """Whether the body shows shell commands in a fenced block (```bash ...)."""
    # Tried on the fence lines only: the engine's own search tries every character of the body.
    return any(_SHELL_FENCE_RE.match(body, fence.start()) for fence in _fence_lines(body))


# --- Delegation: does the description say when to use the agent? ----------------------------

TRIGGERS = [
    # English: "use when", "use proactively", "use this agent when", "must be used", ...
    re.compile(
        r"\buse[ds]?\b(?:\s+(?:this|the|it|me|our|an?)\b)?(?:\s+[\w-]+){0,2}?\s+"
        r"(?:proactively|when|whenever|for|after|before|if|during|immediately|once|to|on|as|in)\b",
        re.I,
    ),
    re.compile(r"\b(?:must|should|to|can)\s+be\s+(?:used|invoked|called|run|launched)\b", re.I),
    re.compile(r"\bproactively\b", re.I),
    re.compile(
        r"\b(?:invoke|call|trigger|delegate|spawn|launch|activate|engage|dispatch|deploy)(?:s|ed|d)?"
        r"\s+(?:\w+\s+){0,3}?(?:when|whenever|after|before|if|by|for|here)\b",
        re.I,
    ),
    re.compile(r"\b(?:triggers?|use\s+cases?|when\s+to\s+use)\s*:", re.I),
    re.compile(r"\bwhen(?:ever)?\s+(?:the\s+)?(?:user|you|a\s+user|someone)\b", re.I),
    # French
    re.compile(
        r"\b(?:doit\s+être\s+utilisé|à\s+utiliser|utilise[zr]?\b|utilisé\s+(?:quand|lorsque|pour|après|avant)|de\s+manière\s+proactive)",
        re.I,
    ),
    # Japanese: ~際に/時に/場合に 使用, 積極的に使用, 使用してください
    re.compile(
        r"(?:際|時|とき|場合|後|前)に?[^。]{0,20}?(?:使用|使って|使う|利用|呼び出|起動)|積極的に|(?:使用|利用)して(?:ください|下さい)"
    ),
    # Korean: ~시/때 사용, 사용하세요, 반드시 사용, 자동으로 사용
    re.compile(
        r"(?:시|때|후|경우)[^.。]{0,20}?(?:사용|활용|호출)|(?:사용|활용)하세요|반드시\s*사용|자동으로\s*사용|적극적으로"
    ),
    # Chinese: ~时使用, 主动使用, 必须使用, 适用于
    re.compile(
        r"(?:时|后|之前|之后|情况下)[^。]{0,20}?(?:使用|调用|启用)|主动使用|必须使用|适用于|请使用"
    ),
]


def says_when_to_use(description: str) -> bool:
    """Whether the description tells Claude when to delegate: a trigger phrase, or <example>
    blocks (each one is a situation where the agent should be used)."""
    return bool(EXAMPLE_RE.search(description)) or any(
        quick.search(p, description) for p in TRIGGERS
    )


# --- Tokens ---------------------------------------------------------------------------------

# Han, Hiragana, Katakana, Hangul, CJK punctuation and full-width forms.
_CJK_RE = re.compile(
    r"[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
)
CHARS_PER_TOKEN = 4
ESTIMATE_METHOD = (
    "estimated offline: about 4 characters a token for English and other alphabetic text, "
    "1 token for each Chinese, Japanese or Korean character"
)


def estimate_tokens(text: str) -> int:
    """Tokens ``text`` costs a Claude model, estimated without a tokenizer (see ESTIMATE_METHOD)."""
    if not text:
        return 0
    cjk = 0 if text.isascii() else len(_CJK_RE.findall(text))  # isascii() reads no character
    return cjk + math.ceil((len(text) - cjk) / CHARS_PER_TOKEN)
