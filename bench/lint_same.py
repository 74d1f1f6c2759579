"""Whether lint says exactly the same things as before a change to its speed: every finding of
every corpus file and demo agent, in several variants, saved once and compared after.

Run:  .venv/bin/python bench/lint_same.py --save /tmp/lint-before.json   (before)
      .venv/bin/python bench/lint_same.py --check /tmp/lint-before.json  (after; 1 if any differ)

Variants of each file, so that every phrase list meets every text: the file as it is (one file,
then with its repository as a collection, as ``lint_corpus.py`` does); with 'tools: Read' (the
prompt-needs-* rules search every file); with no 'tools' (the suggested tools line); and the
phrase search itself (``text.find`` with each phrase list, with and without its ``unless_before``,
on the description and the body, as written and upper-cased). No database, no Django.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents import agentfile  # noqa: E402
from agents.lint import lint, lint_text  # noqa: E402
from agents.lint import text as words  # noqa: E402
from agents.lint.cli import lint_paths  # noqa: E402
from agents.lint.report import lint_record  # noqa: E402

LISTS = {
    "READ_ONLY_FILES": ("READ_ONLY_MODE",),
    "READ_ONLY_COMMANDS": (),
    "NEEDS_COMMANDS": ("SOMEONE_ELSE",),
    "NEEDS_WEB": ("SOMEONE_ELSE",),
    "NEEDS_EDITS": ("SOMEONE_ELSE",),
    "SUGGESTS_EDITS": ("SOMEONE_ELSE",),
    "TRIGGERS": (),
}


def files(corpus: Path) -> list[tuple[str, bytes]]:
    found = [(str(p.relative_to(corpus)), p.read_bytes()) for p in sorted(corpus.rglob("*.md"))]
    demo = ROOT / "agents" / "demo"
    found += [(f"demo/{p.name}", p.read_bytes()) for p in sorted(demo.glob("*.md"))]
    return found


def dicts(findings) -> list[dict]:
    return [f.as_dict() for f in findings]


def phrases(text: str) -> dict[str, object]:
    said: dict[str, object] = {}
    for name, unless in LISTS.items():
        patterns = getattr(words, name)
        for before in (None, *unless):
            found = words.find(
                patterns, text, unless_before=getattr(words, before) if before else None
            )
            said[f"{name}/{before}"] = found and [found.text, found.line]
    said["says_when_to_use"] = words.says_when_to_use(text)
    said["shows_commands"] = words.shows_commands(text)
    return said


def record(corpus: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    every = files(corpus)
    for label, content in every:
        entry: dict[str, object] = {"as-is": dicts(lint_text(content, label))}
        try:
            parsed = agentfile.parse(content, label)
        except agentfile.AgentFileError:
            out[label] = entry
            continue
        rendered = agentfile.render(parsed.frontmatter, parsed.body)
        entry["record"] = lint_record(rendered)
        for variant, tools in (("tools-read", "Read"), ("no-tools", None)):
            fm = dict(parsed.frontmatter)
            fm.pop("tools", None)
            if tools:
                fm["tools"] = tools
            try:
                varied = agentfile.parse(agentfile.render(fm, parsed.body), label)
            except agentfile.AgentFileError as exc:
                entry[variant] = f"unparsable: {exc.message}"
                continue
            entry[variant] = dicts(lint(varied))
        description = parsed.frontmatter.get("description")
        for part, text in (("body", parsed.body), ("description", description)):
            if not isinstance(text, str):
                continue
            prose = words.prose(text)
            entry[f"phrases/{part}"] = phrases(prose)
            entry[f"phrases/{part}/upper"] = phrases(prose.upper())
        out[label] = entry
    # Each repository of the corpus linted as one collection (the cross-file rules too).
    repos: dict[str, list[tuple[str, bytes, str | None]]] = {}
    for label, content in every:
        repos.setdefault(label.split("/")[0], []).append((label, content, None))
    for repo, members in repos.items():
        found, tokens = lint_paths(members)
        out[f"collection/{repo}"] = {"findings": dicts(found), "tokens": tokens}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared/corpus/agents"))
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="JSON")
    group.add_argument("--check", metavar="JSON")
    options = parser.parse_args()
    now = record(Path(options.corpus))
    if options.save:
        Path(options.save).write_text(json.dumps(now, indent=1, sort_keys=True, ensure_ascii=False))
        print(f"saved {len(now)} entries to {options.save}")
        return
    before = json.loads(Path(options.check).read_text())
    now = json.loads(json.dumps(now))  # the same JSON types as the saved copy
    differ = sorted(
        (label, key)
        for label in before.keys() | now.keys()
        for key in (before.get(label) or {}).keys() | (now.get(label) or {}).keys()
        if (before.get(label) or {}).get(key) != (now.get(label) or {}).get(key)
    )
    for label, key in differ[:20]:
        print(f"DIFFERS {label} [{key}]")
        print(f"  before: {json.dumps((before.get(label) or {}).get(key))[:600]}")
        print(f"  now:    {json.dumps((now.get(label) or {}).get(key))[:600]}")
    print(f"{len(now)} entries, {len(differ)} differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
