"""How often each lint rule fires on the shared corpus: the table in the README comes from here.

Run:  .venv/bin/python bench/lint_corpus.py [CORPUS_DIR]
      .venv/bin/python bench/lint_corpus.py --sample RULE [--size 10] [--seed 12]

Each repository of the corpus is one collection (what a project installs together), so the
cross-agent rules (similar descriptions, description budget) compare agents of the same
repository. A file whose original path is ``plugins/<plugin>/agents/...`` is linted as a plugin
agent. ``--sample RULE`` prints a random sample of that rule's hits with the text they concern,
for reading by hand; ``--pairs`` prints the closest description pairs of each repository.
No database, no Django.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.lint import RULES  # noqa: E402
from agents.lint.cli import lint_paths  # noqa: E402
from agents.lint.collection import (  # noqa: E402
    SIMILARITY_THRESHOLD,
    comparable,
    similar_pairs,
)
from agents.lint.rules import parse_for_lint  # noqa: E402

_PLUGIN_RE = re.compile(r"(?:^|__)plugins__(?:[^_].*?__)*?([^_][^/]*?)__agents__")


def corpus_files(corpus: Path) -> dict[str, list[tuple[str, bytes, str | None]]]:
    """Files by repository (the corpus's folders), each with the plugin it ships in, if any."""
    repos: dict[str, list[tuple[str, bytes, str | None]]] = defaultdict(list)
    for path in sorted(p for p in corpus.rglob("*.md") if p.is_file()):
        repo = path.relative_to(corpus).parts[0]
        match = _PLUGIN_RE.search(path.name)
        plugin = match[1].split("__")[-1] if match else None
        repos[repo].append((str(path.relative_to(corpus)), path.read_bytes(), plugin))
    return repos


def measure(corpus: Path):
    findings = []
    repos = corpus_files(corpus)
    for files in repos.values():
        found, _ = lint_paths(files)
        findings += found
    return findings, sum(len(files) for files in repos.values()), repos


def table(findings, total: int) -> str:
    files_by_rule: dict[str, set[str]] = defaultdict(set)
    hits: dict[str, int] = defaultdict(int)
    for f in findings:
        files_by_rule[f.rule].add(f.file)
        hits[f.rule] += 1
    lines = [
        f"| rule | severity | files where it fires (of {total}) | findings |",
        "|---|---|---:|---:|",
    ]
    for rule in RULES.values():
        count = len(files_by_rule.get(rule.id, ()))
        lines.append(
            f"| `{rule.id}` | {rule.severity} | {count} ({100 * count / total:.1f}%) | "
            f"{hits.get(rule.id, 0)} |"
        )
    return "\n".join(lines)


def sample(findings, corpus: Path, rule: str, size: int, seed: int) -> None:
    hits = [f for f in findings if f.rule == rule]
    random.Random(seed).shuffle(hits)  # noqa: S311 (a sample to read, not a secret)
    print(f"{len(hits)} hits of {rule}; {min(size, len(hits))} sampled (seed {seed})\n")
    for f in hits[:size]:
        print(f"== {f.file}:{f.line}\n   {f.message}")
        text = (corpus / f.file).read_bytes().decode("utf-8", "replace").splitlines()
        quoted = re.findall(r"\(line (\d+)\)", f.message)
        for number in [f.line or 1, *map(int, quoted)]:
            print(f"   {number}: {text[number - 1][:300] if number <= len(text) else ''}")
        print()


def pairs(repos, top: int) -> None:
    """The closest description pairs of each repository, raw scores, and whether lint reports
    them (at its threshold) or finds them told apart by a word of an agent's name."""
    from rapidfuzz import fuzz

    scored = []
    for files in repos.values():
        descriptions, names = {}, {}
        for label, content, _ in files:
            read = parse_for_lint(content, label)
            parsed = read[0] if isinstance(read, tuple) else None
            if parsed and isinstance(parsed.frontmatter.get("description"), str):
                descriptions[label] = parsed.frontmatter["description"]
                names[label] = str(parsed.frontmatter.get("name", ""))
        alike = {(p.first, p.second) for p in similar_pairs(descriptions, 0, names)}
        labels = list(descriptions)
        for i, a in enumerate(labels):
            for b in labels[i + 1 :]:
                score = fuzz.token_set_ratio(
                    comparable(descriptions[a]), comparable(descriptions[b])
                )
                if (a, b) not in alike:
                    verdict = "told apart by name"
                elif score >= SIMILARITY_THRESHOLD:
                    verdict = "REPORTED"
                else:
                    verdict = "below threshold"
                scored.append((score, verdict, names[a], names[b], a))
    scored.sort(key=lambda row: -row[0])
    for score, verdict, a, b, label in scored[:top]:
        print(f"{score:5.1f}  {verdict:<18}  {a} / {b}  ({label.split('/')[0]})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared/corpus/agents"))
    parser.add_argument("--sample", metavar="RULE")
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--pairs", type=int, metavar="N", help="print the N closest pairs")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        sys.exit(f"{corpus} is absent: pass the corpus folder as the first argument")
    findings, total, repos = measure(corpus)
    if args.pairs:
        pairs(repos, args.pairs)
    elif args.sample:
        sample(findings, corpus, args.sample, args.size, args.seed)
    else:
        print(table(findings, total))


if __name__ == "__main__":
    main()
