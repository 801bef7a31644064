#!/usr/bin/env bash
# pre-commit suite: pre-commit 4.7.0 (PyPI) in a scratch git repository.
#  1. a `repo: local` + `language: system` hook on the built binary: a clean commit passes, a
#     commit adding `torch.load(path)` + `yaml.unsafe_load` is blocked with the findings shown;
#  2. this repository's .pre-commit-hooks.yaml through `pre-commit try-repo` blocks the same file;
#  3. with a threatlens.toml, a commit of one file is checked against the constants of the others.
# Usage: editors/tests/precommit.sh   (THREATLENS_BIN=... to test another binary)
source "$(dirname "$0")/lib.sh"

venv="$(ensure_venv precommit-venv "$PRE_COMMIT")"
bin="$(threatlens_bin)"
make_scratch precommit
export PRE_COMMIT_HOME="$SCRATCH/pre-commit-home"   # pre-commit's own cache, not ~/.cache
export PATH="$venv/bin:$PATH"
passed=0 failed=0
check() { # check DESCRIPTION CONDITION...
    local what="$1"; shift
    if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}
quiet() { "$@" >"$SCRATCH/command.log" 2>&1 || { cat "$SCRATCH/command.log"; return 1; }; }
commits() { git rev-list --count HEAD 2>/dev/null || echo 0; }

repo="$SCRATCH/repo"
mkdir -p "$repo" && cd "$repo"
git init -q -b main .
git config user.email ci@example.invalid
git config user.name "threatlens CI"
git config commit.gpgsign false
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: local
    hooks:
      - id: threatlens
        name: threatlens
        entry: $bin check
        language: system
        types_or: [python, jupyter, rust, yaml]
        require_serial: true
YAML
pre-commit install >/dev/null

# A clean commit.
cat > app.py <<'PY'
import json

import yaml


def read(text, path):
    return json.loads(text), yaml.safe_load(open(path))
PY
git add .pre-commit-config.yaml app.py
check "clean commit passes the hook" quiet git commit -q -m "clean"
check "clean commit recorded" test "$(commits)" = 1

# A commit that loads an untrusted checkpoint and YAML.
cat > model.py <<'PY'
import torch
import yaml


def load(path, text):
    model = torch.load(path)
    config = yaml.unsafe_load(text)
    return model, config
PY
git add model.py
set +e
out="$(git commit -m "unsafe loads" 2>&1)"
status=$?
set -e
printf '%s\n' "$out" | sed 's/^/    | /'
check "commit with torch.load + yaml.unsafe_load is refused" test $status -ne 0
check "the refused commit was not recorded" test "$(commits)" = 1
check "hook output names TL201 (yaml.unsafe_load) at model.py:7" grep -q "model.py:7:14: TL201" <<<"$out"
check "hook output names TL110 (torch.load) at model.py:6" grep -q "model.py:6:13: TL110" <<<"$out"

# The distribution hook of this repository (.pre-commit-hooks.yaml, as committed: try-repo
# clones HEAD plus uncommitted changes to tracked files), threatlens on PATH.
set +e
out="$(PATH="$(dirname "$bin"):$PATH" pre-commit try-repo "$REPO_ROOT" threatlens --files model.py app.py 2>&1)"
status=$?
set -e
printf '%s\n' "$out" | grep -v '^\[WARNING\]' | sed 's/^/    | /' | tail -8
check "try-repo .pre-commit-hooks.yaml: hook id threatlens fails on model.py" \
    grep -q -- "- hook id: threatlens" <<<"$out"
check "try-repo .pre-commit-hooks.yaml: output names TL201" grep -q "model.py:7:14: TL201" <<<"$out"

# Fixing the file lets the commit through.
sed -i 's/torch.load(path)/torch.load(path, weights_only=True)/; s/yaml.unsafe_load(text)/yaml.safe_load(text)/' model.py
git add model.py
check "the fixed commit passes" quiet git commit -q -m "safe loads"
check "the fixed commit recorded" test "$(commits)" = 2

# With a threatlens.toml, the staged file's imports are resolved in the whole project: a commit
# of serve.py alone is refused for the constant settings.py (committed earlier) gives it.
touch threatlens.toml
printf 'TRUST_REMOTE_CODE = True\n' > settings.py
git add threatlens.toml settings.py
check "a settings module passes" quiet git commit -q -m "settings"
cat > serve.py <<'PY'
from transformers import AutoModel

from settings import TRUST_REMOTE_CODE

REVISION = "0123456789abcdef0123456789abcdef01234567"
model = AutoModel.from_pretrained("acme/bot", revision=REVISION, trust_remote_code=TRUST_REMOTE_CODE)
PY
git add serve.py
set +e
out="$(git commit -m "serve" 2>&1)"
status=$?
set -e
printf '%s\n' "$out" | sed 's/^/    | /'
check "a commit of serve.py alone is refused for settings.py's constant" test $status -ne 0
check "hook output names TL301 (trust_remote_code) at serve.py:6" grep -q "serve.py:6:9: TL301" <<<"$out"

echo "precommit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
