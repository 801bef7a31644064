#!/usr/bin/env python3
"""How much a lexical pre-filter could skip: the files of a corpus in which no identifier (outside
strings and comments) is one a rule of the catalogue could ever need.

The anchor set is deliberately too small, so the result is an upper bound on what a pre-filter
could skip: the last segment of every call pattern in rules/catalogue/*.toml (`pickle.loads` ->
`loads`; patterns ending in a wildcard add nothing), every identifier-shaped keyword or
credential name the catalogue mentions, and the builtins that execute or import by name. It
leaves out the taint sources and everything matched inside strings (secrets, `http://` URLs),
which a real pre-filter would also have to keep.

    python3 tests/bench/prefilter_estimate.py ~/.cache/threatlens-bench/corpora/transformers-5.24.0
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAME_KEYS = {"names", "keyword", "keywords", "kwarg", "name", "arg", "args"}
BUILTINS = {"eval", "exec", "input", "open", "compile", "__import__", "import_module", "getattr"}


def anchors() -> set[str]:
    found: set[str] = set()

    def visit(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                visit(v, k)
        elif isinstance(value, list):
            for item in value:
                visit(item, key)
        elif isinstance(value, str) and key == "calls":
            last = re.split(r"[.:]+", value)[-1].removesuffix("()")
            if last.isidentifier():
                found.add(last)
        elif isinstance(value, str) and key in NAME_KEYS and value.isidentifier():
            found.add(value)

    for path in (REPO / "rules" / "catalogue").glob("*.toml"):
        if not path.name.startswith(("rust", "artefact")):
            visit(tomllib.loads(path.read_text()))
    return found | BUILTINS


def identifiers(text: str) -> set[str]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return {token.string for token in tokens if token.type == tokenize.NAME}


def main() -> int:
    root = Path(sys.argv[1])
    wanted = anchors()
    files = skippable = size = skippable_size = unreadable = 0
    for path in root.rglob("*.py"):
        data = path.read_bytes()
        files += 1
        size += len(data)
        try:
            names = identifiers(data.decode("utf-8"))
        except (UnicodeDecodeError, tokenize.TokenError, SyntaxError):
            unreadable += 1
            continue
        if not names & wanted:
            skippable += 1
            skippable_size += len(data)
    print(f"{len(wanted)} anchor identifiers; {files} files, {unreadable} not tokenizable")
    print(f"without any anchor: {skippable} files ({skippable / files:.1%}), {skippable_size / size:.1%} of the bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
