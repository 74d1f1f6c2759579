"""Check the offline token estimate (agents.lint.text.estimate_tokens) against a real tokenizer.

Run:  python bench/calibrate_tokens.py TOKENIZER_JSON [CORPUS_DIR]

Needs the ``tokenizers`` package (not a project requirement) and a tokenizer file. The only
Claude tokenizer published is the legacy one that the ``anthropic`` package shipped as
``anthropic/tokenizer.json`` (up to version 0.34); newer Claude models count somewhat
differently, so this checks the estimate's order of magnitude and its CJK/alphabetic ratio, not
exact counts. Prints, for descriptions and prompts, alphabetic and CJK texts apart: the total
tokens counted, the total estimated, and the ratio.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents import agentfile  # noqa: E402
from agents.lint.text import estimate_tokens  # noqa: E402

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def main() -> None:
    from tokenizers import Tokenizer

    if len(sys.argv) < 2:
        sys.exit(__doc__)
    tokenizer = Tokenizer.from_file(sys.argv[1])
    corpus = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT.parent / "shared/corpus/agents"
    sums: dict[str, list[int]] = {}
    for path in sorted(corpus.rglob("*.md")):
        try:
            parsed = agentfile.parse(path.read_bytes(), path.name)
        except agentfile.AgentFileError:
            continue
        description = parsed.frontmatter.get("description")
        for part, text in (("description", description), ("prompt", parsed.body)):
            if not isinstance(text, str) or not text.strip():
                continue
            script = "CJK" if len(_CJK.findall(text)) > len(text) / 10 else "alphabetic"
            counted = len(tokenizer.encode(text).ids)
            row = sums.setdefault(f"{part} ({script})", [0, 0, 0])
            row[0] += 1
            row[1] += counted
            row[2] += estimate_tokens(text)
    print("| text | files | tokens counted | tokens estimated | estimate / counted |")
    print("|---|---:|---:|---:|---:|")
    for key, (files, counted, estimated) in sorted(sums.items()):
        print(f"| {key} | {files} | {counted:,} | {estimated:,} | {estimated / counted:.2f} |")


if __name__ == "__main__":
    main()
