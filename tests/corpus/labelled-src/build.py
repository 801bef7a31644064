#!/usr/bin/env python3
"""Build the labelled corpus (../labelled) from the marked sources in ./src.

Markers (stripped from output):
  python / notebook code:  <code>  #@ cat: note || cat2: note2
  rust:                    <code>  //@ cat: note
  safe look-alike:         #@ safe: note
Notebook sources: *.ipynb.src with cell headers '%%% markdown' / '%%% code' / '%%% output'.
Key placeholders: @@KEY:kind@@ replaced by deterministic fake keys.
"""
import json, os, random, re, string, sys, hashlib

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
OUT = os.path.join(os.path.dirname(HERE), "labelled")
CATS = {
    "deser": "untrusted-deserialisation", "yaml": "unsafe-yaml", "rct": "remote-code-trust",
    "unpin": "unpinned-model", "exec": "llm-output-exec", "xss": "llm-output-xss",
    "tls": "tls-disabled", "http": "insecure-transport", "secret": "hardcoded-secret",
    "unenc": "unencrypted-artefact", "fmt": "unsafe-format-write", "debug": "debug-exposure",
}
MARK = re.compile(r"\s*(?:#|//)@\s*(.*)$")

def rnd(seed):
    return random.Random(int(hashlib.sha256(seed.encode()).hexdigest(), 16))

A = string.ascii_letters + string.digits
def key(kind, seed):
    r = rnd(seed)
    ch = lambda alph, n: "".join(r.choice(alph) for _ in range(n))
    if kind == "openai_proj":
        return "sk-proj-" + ch(A + "_-", 74) + "T3BlbkFJ" + ch(A + "_-", 74)
    if kind == "openai_legacy":
        return "sk-" + ch(A, 20) + "T3BlbkFJ" + ch(A, 20)
    if kind == "anthropic":
        return "sk-ant-api03-" + ch(A + "_-", 93) + "AA"
    if kind == "anthropic_tail":
        return ch(A + "_-", 93) + "AA"
    if kind == "hf":
        return "hf_" + ch(string.ascii_letters, 34)
    if kind == "aws_akid":
        return "AKIA" + ch(string.ascii_uppercase + "234567", 16)
    if kind == "aws_secret":
        return ch(A + "/+", 40)
    if kind == "github":
        return "ghp_" + ch(A, 36)
    if kind == "groq":
        return "gsk_" + ch(A, 52)
    if kind == "google":
        return "AIza" + ch(A + "_-", 35)
    if kind == "replicate":
        return "r8_" + ch(A, 37)
    if kind == "cohere":
        return ch(A, 40)
    if kind == "wandb":
        return ch("0123456789abcdef", 40)
    if kind == "langsmith":
        return "lsv2_pt_" + ch("0123456789abcdef", 32) + "_" + ch("0123456789abcdef", 10)
    if kind == "sha":
        return ch("0123456789abcdef", 40)
    if kind == "sha256":
        return ch("0123456789abcdef", 64)
    raise SystemExit(f"unknown key kind {kind}")

findings, safes, problems = [], [], []

def subst_keys(text, rel):
    n = [0]
    def rep(m):
        n[0] += 1
        return key(m.group(1), f"{rel}#{n[0]}#{m.group(1)}")
    return re.sub(r"@@KEY:(\w+)@@", rep, text)

def parse_marks(spec, rel, line, cell=None):
    for part in spec.split("||"):
        part = part.strip()
        if not part:
            continue
        if ":" not in part:
            problems.append(f"{rel}:{line} bad marker {part!r}")
            continue
        c, note = part.split(":", 1)
        c = c.strip(); note = note.strip()
        rec = {"file": rel}
        if cell is not None:
            rec["cell"] = cell
        rec["line"] = line
        if c == "safe":
            rec["note"] = note
            safes.append(rec)
        elif c in CATS:
            rec["category"] = CATS[c]
            rec["note"] = note
            findings.append(rec)
        else:
            problems.append(f"{rel}:{line} unknown cat {c!r}")

def strip_lines(lines, rel, cell=None):
    out = []
    for i, l in enumerate(lines, 1):
        m = MARK.search(l)
        if m:
            parse_marks(m.group(1), rel, i, cell)
            l = l[: m.start()]
        out.append(l.rstrip())
    return out

def build_notebook(text, rel):
    cells, cur = [], None
    for l in text.split("\n"):
        if l.startswith("%%% "):
            kind = l[4:].strip()
            cur = {"kind": kind, "lines": []}
            cells.append(cur)
        else:
            if cur is None:
                if l.strip():
                    problems.append(f"{rel}: text before first cell")
                continue
            cur["lines"].append(l)
    nb_cells, exec_no = [], 0
    meta = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.10.12", "mimetype": "text/x-python",
                               "file_extension": ".py", "codemirror_mode": {"name": "ipython", "version": 3},
                               "pygments_lexer": "ipython3", "nbconvert_exporter": "python"}}
    for c in cells:
        lines = c["lines"]
        while lines and not lines[-1].strip():
            lines.pop()
        if c["kind"] == "output":
            prev = nb_cells[-1]
            prev["outputs"].append({"name": "stdout", "output_type": "stream",
                                    "text": [x + "\n" for x in lines[:-1]] + [lines[-1] + "\n"]})
            continue
        idx = len(nb_cells)
        if c["kind"] == "code":
            lines = strip_lines(lines, rel, idx)
        elif c["kind"] == "meta":
            meta.update(json.loads("\n".join(lines)))
            continue
        src = [x + "\n" for x in lines[:-1]] + ([lines[-1]] if lines else [])
        if c["kind"] == "markdown":
            nb_cells.append({"cell_type": "markdown", "metadata": {}, "source": src})
        else:
            exec_no += 1
            nb_cells.append({"cell_type": "code", "execution_count": exec_no, "metadata": {},
                             "outputs": [], "source": src})
    nb = {"cells": nb_cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}
    # nbformat 4.5 wants cell ids
    for i, c in enumerate(nb_cells):
        c["id"] = hashlib.sha1(f"{rel}:{i}".encode()).hexdigest()[:8]
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"

def main():
    import shutil
    for entry in os.listdir(OUT):
        if entry == "README.md":
            continue
        full = os.path.join(OUT, entry)
        shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)
    written = []
    for root, _, files in os.walk(SRC):
        for f in sorted(files):
            p = os.path.join(root, f)
            rel = os.path.relpath(p, SRC)
            text = open(p).read()
            if rel.endswith(".ipynb.src"):
                rel = rel[: -len(".src")]
                text = subst_keys(text, rel)
                out = build_notebook(text, rel)
            else:
                text = subst_keys(text, rel)
                lines = text.split("\n")
                if lines and lines[-1] == "":
                    lines.pop()
                out = "\n".join(strip_lines(lines, rel)) + "\n"
            dst = os.path.join(OUT, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "w").write(out)
            written.append(rel)
    key_ = lambda r: (r["file"], r.get("cell", -1), r["line"], r.get("category", ""))
    findings.sort(key=key_); safes.sort(key=key_)
    seen = set()
    for r in findings:
        k = key_(r)
        if k in seen:
            problems.append(f"duplicate label {k}")
        seen.add(k)
    json.dump({"version": 1, "findings": findings}, open(os.path.join(OUT, "labels.json"), "w"), indent=1)
    json.dump({"version": 1, "description": "Deliberate safe look-alikes: lines that resemble a finding but must NOT be reported. Informational; every unlabelled line is a negative.", "lookalikes": safes},
              open(os.path.join(OUT, "lookalikes.json"), "w"), indent=1)
    from collections import Counter
    cnt = Counter(r["category"] for r in findings)
    print(f"files={len(written)} findings={len(findings)} safe={len(safes)}")
    for c in CATS.values():
        print(f"  {c:28s} {cnt.get(c,0)}")
    for p in problems:
        print("PROBLEM", p)
    json.dump(sorted(written), open("/tmp/written.json", "w"))

main()
