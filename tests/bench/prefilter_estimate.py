#!/usr/bin/env python3
"""How much a lexical pre-filter could skip: the files of a corpus in which no identifier (outside
strings and comments) is one a rule of the catalogue could ever need, and, in the other files,
the functions (defined at module level or in a class body) in which none is: what parsing only
the regions that hold an anchor could leave out.

The anchor set is deliberately too small, so the result is an upper bound on what a pre-filter
could skip: the last segment of every call pattern in rules/catalogue/*.toml (`pickle.loads` ->
`loads`; patterns ending in a wildcard add nothing), every identifier-shaped keyword or
credential name the catalogue mentions, and the builtins that execute or import by name. It
leaves out the taint sources and the provider key prefixes matched inside strings, which a real
pre-filter would also have to keep. One line adds what the credential rule matches on any name
or key (`key`, `token`, `secret`, …, case-insensitive, anywhere in the file) and URLs: a file
without an anchor identifier can still hold a finding through those.

Another line keeps, of the files without an anchor or credential name, those that import no
module of the corpus that has one, directly or through other modules: the analysis reads the
constants of the modules a file imports, so only these could a sound file filter skip.

The last line narrows the functions without an anchor to those nothing else in their file can
need (see `unit_bytes_without_anchor`): what a pre-filter could skip inside files without
changing a finding, since the others carry data between the functions that do hold an anchor.

    python3 tests/bench/prefilter_estimate.py ~/.cache/threatlens-bench/corpora/transformers-5.24.0
"""

from __future__ import annotations

import ast
import functools
import io
import re
import sys
import tokenize
import tomllib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAME_KEYS = {"names", "keyword", "keywords", "kwarg", "name", "arg", "args"}
# What the credential rule (TL604) matches on names and keys, and the URL-with-password shape:
# any of these anywhere in a file (case-insensitive) can make a finding.
CREDENTIAL_NAMES = re.compile(rb"(?i)key|token|secret|passw|authoriz|://")
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


def identifiers(text: str) -> list[tuple[int, str]]:
    """Every identifier, with its line."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [(token.start[0], token.string) for token in tokens if token.type == tokenize.NAME]


def units(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions defined at module level or in a class body there."""
    found = []
    for node in tree.body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        found += [m for m in members if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return found


def passes_nothing_on(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the function writes nothing other functions read: no attribute, no global."""
    for node in ast.walk(function):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return False
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and any(
            isinstance(target, (ast.Attribute, ast.Subscript)) for target in targets
        ):
            return False
    return True


def unit_bytes_without_anchor(text: str, data: bytes, wanted: set[str]) -> tuple[int, int]:
    """The bytes of the file's functions in which no identifier is an anchor, and of those the
    bytes of the functions nothing else in the file can need: besides having no anchor, they hold
    no credential name or URL, are not decorated, are not dunder methods (called implicitly), set
    no attribute or global, and no other token of the file (identifier or string) names them.
    Only those could be left unparsed without changing a finding; the data flow through the
    others (`def clean(text): return text.strip()` between a request and `eval`) is needed."""
    try:
        tree = ast.parse(text)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, ValueError, tokenize.TokenError):
        return 0, 0
    line_start = [0]
    for line in text.splitlines(keepends=True):
        line_start.append(line_start[-1] + len(line.encode("utf-8")))
    anchored_lines = {t.start[0] for t in tokens if t.type == tokenize.NAME and t.string in wanted}
    mentions = Counter(t.string for t in tokens if t.type == tokenize.NAME)
    strings = " ".join(t.string for t in tokens if t.type == tokenize.STRING)
    without_anchor = never_needed = 0
    for function in units(tree):
        first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
        last = function.end_lineno or function.lineno
        if any(line in anchored_lines for line in range(first, last + 1)):
            continue
        start, end = line_start[first - 1], line_start[min(last, len(line_start) - 1)]
        without_anchor += end - start
        if (
            not CREDENTIAL_NAMES.search(data[start:end])
            and not function.decorator_list
            and not function.name.startswith("__")
            and passes_nothing_on(function)
            and mentions[function.name] == 1
            and function.name not in strings
        ):
            never_needed += end - start
    return without_anchor, never_needed


@functools.cache
def is_file(path: Path) -> bool:
    return path.is_file()


def imported_modules(path: Path, tree: ast.Module, root: Path) -> set[Path]:
    """The corpus's own modules `path` imports (anywhere in the file), as files: for
    `from pkg import name`, both `pkg/__init__.py` and `pkg/name.py`. Absolute imports are
    resolved against every directory above the file, so that the corpus's top-level package is
    found wherever it is unpacked."""
    package = path.parent
    # Directories an absolute import can start from: the corpus root and those below it.
    starts = [directory for directory in (package, *package.parents) if directory.is_relative_to(root)]

    def module_files(base: Path, dotted: str) -> list[Path]:
        target = base.joinpath(*dotted.split(".")) if dotted else base
        return [target / "__init__.py", target.with_suffix(".py")]

    found: set[Path] = set()
    for node in ast.walk(tree):
        candidates: list[Path] = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                for base in starts:
                    candidates += module_files(base, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.parent
                bases = [base]
            else:
                bases = starts
            for base in bases:
                candidates += module_files(base, node.module or "")
                for alias in node.names:
                    candidates += module_files(base, f"{node.module}.{alias.name}" if node.module else alias.name)
        found.update(c for c in candidates if c.is_relative_to(root) and is_file(c))
    return found


def without_anchor_nor_imports_of_one(root: Path, cold: dict[Path, bool], trees: dict[Path, ast.Module]) -> set[Path]:
    """The files without an anchor or credential name (`cold`) that import no module of the corpus
    that has one, directly or through other modules. Another module's constants reach a file
    through its imports (`from .config import LOADER`, where `LOADER = pickle.loads`; a dict of
    keyword arguments): a file without an anchor of its own can still hold a finding through them,
    so a sound file filter can skip only these."""
    imports = {path: imported_modules(path, tree, root) for path, tree in trees.items()}
    hot = {path for path, is_cold in cold.items() if not is_cold}
    changed = True
    while changed:
        changed = False
        for path, modules in imports.items():
            if path not in hot and modules & hot:
                hot.add(path)
                changed = True
    return {path for path in cold if path not in hot}


def main() -> int:
    root = Path(sys.argv[1])
    wanted = anchors()
    files = skippable = size = skippable_size = unreadable = in_functions = never_needed = 0
    without_credentials = without_credentials_size = 0
    cold: dict[Path, bool] = {}
    trees: dict[Path, ast.Module] = {}
    sizes: dict[Path, int] = {}
    for path in root.rglob("*.py"):
        data = path.read_bytes()
        files += 1
        size += len(data)
        sizes[path] = len(data)
        try:
            text = data.decode("utf-8")
            names = identifiers(text)
            trees[path] = ast.parse(text)
        except (UnicodeDecodeError, tokenize.TokenError, SyntaxError, ValueError):
            unreadable += 1
            continue
        cold[path] = False
        if not {name for _, name in names} & wanted:
            skippable += 1
            skippable_size += len(data)
            if not CREDENTIAL_NAMES.search(data):
                without_credentials += 1
                without_credentials_size += len(data)
                cold[path] = True
        else:
            without_anchor, not_needed = unit_bytes_without_anchor(text, data, wanted)
            in_functions += without_anchor
            never_needed += not_needed
    print(f"{len(wanted)} anchor identifiers; {files} files, {unreadable} not tokenizable")
    print(f"without any anchor: {skippable} files ({skippable / files:.1%}), {skippable_size / size:.1%} of the bytes")
    print(
        f"... nor a credential name or URL: {without_credentials} files "
        f"({without_credentials / files:.1%}), {without_credentials_size / size:.1%} of the bytes"
    )
    sound = without_anchor_nor_imports_of_one(root, cold, trees)
    sound_size = sum(sizes[path] for path in sound)
    print(
        f"... nor importing a module of the corpus that has one, directly or not: {len(sound)} files "
        f"({len(sound) / files:.1%}), {sound_size / size:.1%} of the bytes"
    )
    print(f"functions without an anchor in the other files: {in_functions / size:.1%} of the bytes")
    print(f"together: {(skippable_size + in_functions) / size:.1%} of the bytes")
    print(
        f"... of those functions, nothing else in their file can need: {never_needed / size:.1%} of the bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
