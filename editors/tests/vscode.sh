#!/usr/bin/env bash
# VS Code suite: the packaged extension in a real VS Code (code-server from npm), driven by
# Debian's Chromium through playwright-core, on the bundled example. Checks the Problems panel,
# the hover, the Ctrl+. quick fix and its edit; screenshots go to $ARTEFACT_DIR (default: a
# temp dir, printed at the end).
# Usage: editors/tests/vscode.sh   (THREATLENS_BIN=... to test another binary)
source "$(dirname "$0")/lib.sh"

ensure_apt chromium fonts-liberation libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev
use_node24
cs="$(ensure_npm code-server "$CODE_SERVER" "$PLAYWRIGHT")"
bin="$(threatlens_bin)"
make_scratch vscode
ARTEFACT_DIR="${ARTEFACT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/threatlens-vscode-artefacts.XXXXXX")}"
mkdir -p "$ARTEFACT_DIR"

# 1. Package the extension with vsce, from the lock file, in a build dir outside the repository.
build="$CACHE/vscode-extension"
lock_sum="$(sha256sum "$REPO_ROOT/editors/vscode/package-lock.json" | cut -c1-16)"
mkdir -p "$build"
if [ ! -f "$build/.npm-ci-$lock_sum" ]; then
    log "npm ci for the extension (lock $lock_sum)"
    rm -rf "$build"/node_modules "$build"/.npm-ci-*
    cp "$REPO_ROOT/editors/vscode/package.json" "$REPO_ROOT/editors/vscode/package-lock.json" "$build/"
    (cd "$build" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$build/.npm-ci-$lock_sum"
fi
cp "$REPO_ROOT"/editors/vscode/{package.json,package-lock.json,extension.js,README.md,.vscodeignore} "$build/"
(cd "$build" && npx --no-install vsce package --skip-license --allow-missing-repository \
    -o "$SCRATCH/threatlens.vsix" >"$SCRATCH/vsce.log" 2>&1) || { cat "$SCRATCH/vsce.log" >&2; die "vsce package"; }
log "packaged $(du -h "$SCRATCH/threatlens.vsix" | cut -f1) .vsix"

# 2. code-server with its state in the scratch dir (it writes under $HOME and XDG dirs).
project="$SCRATCH/project"
cp -r "$REPO_ROOT/threat-models/examples/rag-chatbot" "$project"
export HOME="$SCRATCH/home"
for x in CONFIG DATA STATE CACHE; do
    mkdir -p "$SCRATCH/xdg-$x"
    export "XDG_${x}_HOME=$SCRATCH/xdg-$x"
done
data="$SCRATCH/user-data" exts="$SCRATCH/extensions"
mkdir -p "$HOME" "$data/User" "$data/Machine" "$exts"
code_server=("$cs/node_modules/.bin/code-server" --user-data-dir "$data" --extensions-dir "$exts")
"${code_server[@]}" --install-extension "$SCRATCH/threatlens.vsix" >"$SCRATCH/install-extension.log" 2>&1 \
    || { cat "$SCRATCH/install-extension.log" >&2; die "install the .vsix"; }
cat > "$data/User/settings.json" <<JSON
{
  "threatlens.serverPath": "$bin",
  "threatlens.debounceMs": 0,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "chat.disableAIFeatures": true,
  "editor.hover.delay": 200,
  "files.autoSave": "off",
  "git.enabled": false
}
JSON
# The extension host reads machine settings on the server side before the browser's user
# settings arrive: put the server path there too, or the first start may race them.
printf '{ "threatlens.serverPath": "%s", "threatlens.debounceMs": 0 }\n' "$bin" > "$data/Machine/settings.json"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log "code-server on 127.0.0.1:$port, server $bin"
setsid "${code_server[@]}" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry \
    --disable-update-check --disable-workspace-trust --disable-getting-started-override \
    "$project" >"$SCRATCH/code-server.log" 2>&1 &
cs_pid=$!
cleanup() {
    # code-server and its children (file watcher, extension host, our server) share its group.
    kill -TERM -- "-$cs_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$cs_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$cs_pid" 2>/dev/null || true
    cp "$SCRATCH/code-server.log" "$ARTEFACT_DIR/" 2>/dev/null || true
    [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$SCRATCH"
}
trap cleanup EXIT
for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    kill -0 "$cs_pid" 2>/dev/null || { cat "$SCRATCH/code-server.log" >&2; die "code-server exited"; }
    sleep 0.2
done

status=0
URL="http://127.0.0.1:$port/?folder=$project" ARTEFACT_DIR="$ARTEFACT_DIR" \
SETTINGS_FILE="$data/Machine/settings.json" \
PLAYWRIGHT_CORE="$cs/node_modules/playwright-core/index.js" \
    timeout 300 node "$EDITORS_TESTS/vscode.mjs" || status=$?
cp -r "$data/logs" "$ARTEFACT_DIR/code-server-logs" 2>/dev/null || true
[ $status -eq 0 ] || { log "code-server log:"; tail -30 "$SCRATCH/code-server.log" >&2; }
log "artefacts (screenshots, logs): $ARTEFACT_DIR"
exit $status
