#!/usr/bin/env python3
"""Build the holdout corpus (../holdout) from the annotated sources in ./src.

Markers: trailing `#@ cat: note` (python/notebook) or `//@ cat: note` (rust);
several per line allowed. `safe:` marks a deliberate negative look-alike (not
emitted as a label, only counted). `{{KIND}}` placeholders are replaced by
deterministic fake secrets / shas.
Notebook sources (*.nbsrc) use `##CELL markdown` / `##CELL code` separators.
"""
import json, os, random, re, string, sys, collections
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
OUT = HERE.parent / "holdout"
CATS = {"untrusted-deserialisation", "unsafe-yaml", "remote-code-trust", "unpinned-model",
        "llm-output-exec", "llm-output-xss", "tls-disabled", "insecure-transport",
        "hardcoded-secret", "unencrypted-artefact", "unsafe-format-write", "debug-exposure"}
rng = random.Random(20240611)
A = string.ascii_letters + string.digits
U = string.ascii_uppercase
def r(chars, n): return "".join(rng.choice(chars) for _ in range(n))
GEN = {
    "OPENAI_PROJ": lambda: "sk-proj-" + r(A + "-_", 74) + "T3BlbkFJ" + r(A + "-_", 74),
    "OPENAI": lambda: "sk-" + r(A, 20) + "T3BlbkFJ" + r(A, 20),
    "ANTHROPIC": lambda: "sk-ant-api03-" + r(A + "-_", 93) + "AA",
    "ANTHROPIC_BODY": lambda: r(A + "-_", 93) + "AA",
    "OPENAI_PROJ_BODY": lambda: r(A + "-_", 74) + "T3BlbkFJ" + r(A + "-_", 74),
    "HF": lambda: "hf_" + r(string.ascii_letters, 34),
    "AKIA": lambda: "AKIA" + r(U + "234567", 16),
    "AWS_SECRET": lambda: r(A + "/+", 40),
    "GOOGLE": lambda: "AIza" + r(A + "-_", 35),
    "GHP": lambda: "ghp_" + r(A, 36),
    "HEX40": lambda: r("0123456789abcdef", 40),
    "SHA": lambda: r("0123456789abcdef", 40),
    "LANGSMITH": lambda: "lsv2_pt_" + r("0123456789abcdef", 32) + "_" + r("0123456789abcdef", 10),
    "REPLICATE": lambda: "r8_" + r(A, 37),
    "GROQ": lambda: "gsk_" + r(A, 52),
    "PASSWORD": lambda: r(A, 20),
    "COHERE": lambda: r(A, 40),
    "SLACK": lambda: "xoxb-" + r(string.digits, 12) + "-" + r(string.digits, 13) + "-" + r(A, 24),
    "MISTRAL": lambda: r(A, 32),
}
def subst(text):
    return re.sub(r"\{\{([A-Z0-9_]+)\}\}", lambda m: GEN[m.group(1)](), text)

MARK = re.compile(r"\s+(#@|//@) ")
def strip_line(line):
    m = MARK.search(line)
    if not m:
        return line, []
    code = line[:m.start()].rstrip()
    rest = line[m.start():].strip()
    tag = m.group(1)
    parts = [p.strip() for p in rest.split(tag + " ") if p.strip()]
    anns = []
    for p in parts:
        cat, _, note = p.partition(":")
        cat = cat.strip(); note = note.strip()
        if cat != "safe" and cat not in CATS:
            sys.exit(f"bad category {cat!r} in {line!r}")
        if cat != "safe" and not note:
            sys.exit(f"missing note in {line!r}")
        anns.append((cat, note))
    return code, anns

findings, safes = [], []
files = []
for src in sorted(SRC.rglob("*")):
    if src.is_dir():
        continue
    rel = src.relative_to(SRC)
    text = subst(src.read_text())
    if src.suffix == ".nbsrc":
        rel = rel.with_suffix(".ipynb")
        cells, cur = [], None
        for raw in text.split("\n"):
            if raw.startswith("##CELL "):
                cur = {"type": raw.split()[1], "lines": []}
                cells.append(cur); continue
            cur["lines"].append(raw)
        nb_cells = []
        for ci, c in enumerate(cells):
            while c["lines"] and c["lines"][-1].strip() == "":
                c["lines"].pop()
            out_lines = []
            for li, raw in enumerate(c["lines"], 1):
                code, anns = strip_line(raw) if c["type"] == "code" else (raw, [])
                out_lines.append(code)
                for cat, note in anns:
                    rec = {"file": str(rel), "cell": ci, "line": li, "category": cat, "note": note}
                    (safes if cat == "safe" else findings).append(rec)
            source = [l + "\n" for l in out_lines[:-1]] + ([out_lines[-1]] if out_lines else [])
            cid = "%08x" % rng.getrandbits(32)
            if c["type"] == "markdown":
                nb_cells.append({"cell_type": "markdown", "id": cid, "metadata": {}, "source": source})
            else:
                nb_cells.append({"cell_type": "code", "execution_count": None, "id": cid,
                                 "metadata": {}, "outputs": [], "source": source})
        nb = {"cells": nb_cells,
              "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                           "language_info": {"codemirror_mode": {"name": "ipython", "version": 3},
                                             "file_extension": ".py", "mimetype": "text/x-python",
                                             "name": "python", "nbconvert_exporter": "python",
                                             "pygments_lexer": "ipython3", "version": "3.11.7"}},
              "nbformat": 4, "nbformat_minor": 5}
        out_text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    else:
        out_lines = []
        for li, raw in enumerate(text.split("\n"), 1):
            code, anns = strip_line(raw) if src.suffix in (".py", ".rs") else (raw, [])
            out_lines.append(code)
            for cat, note in anns:
                rec = {"file": str(rel), "line": li, "category": cat, "note": note}
                (safes if cat == "safe" else findings).append(rec)
        out_text = "\n".join(out_lines)
    dst = OUT / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(out_text)
    files.append(str(rel))

keys = collections.Counter((f["file"], f.get("cell"), f["line"], f["category"]) for f in findings)
dups = [k for k, v in keys.items() if v > 1]
if dups:
    sys.exit(f"duplicate labels: {dups}")
# leftover markers?
for f in files:
    t = (OUT / f).read_text()
    if "#@ " in t or "//@ " in t or "{{" in t and f.endswith((".py", ".rs")):
        print("WARNING leftover marker/placeholder in", f)
findings.sort(key=lambda f: (f["file"], f.get("cell", -1), f["line"], f["category"]))
(OUT / "labels.json").write_text(json.dumps({"version": 1, "findings": findings}, indent=1) + "\n")
(HERE / "safes.json").write_text(json.dumps(safes, indent=1))
c = collections.Counter(f["category"] for f in findings)
print("files", len(files), "labels", len(findings), "safe markers", len(safes))
for k in sorted(CATS):
    print(f"  {k:28s} {c[k]}")
print("per-file:", collections.Counter(f["file"].split('/')[0] for f in findings))
