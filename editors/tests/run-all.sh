#!/usr/bin/env bash
# Runs every editor suite against one build of the server: pre-commit, Neovim, VS Code.
# Each suite installs what it needs (apt, PyPI, npm) into $THREATLENS_CI_CACHE
# (default ~/.cache/threatlens-ci). Exits non-zero if any suite fails.
# Usage: editors/tests/run-all.sh [precommit|nvim|vscode ...]
source "$(dirname "$0")/lib.sh"

THREATLENS_BIN="$(threatlens_bin)"
export THREATLENS_BIN
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(precommit nvim vscode)

passed=0 failed=0 summary=()
for suite in "${suites[@]}"; do
    log "== $suite"
    start=$SECONDS
    if "$EDITORS_TESTS/$suite.sh"; then
        passed=$((passed + 1)); summary+=("ok   $suite ($((SECONDS - start)) s)")
    else
        failed=$((failed + 1)); summary+=("FAIL $suite ($((SECONDS - start)) s)")
    fi
done
printf '%s\n' "${summary[@]}"
echo "editor suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
