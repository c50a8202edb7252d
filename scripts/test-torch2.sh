#!/usr/bin/env bash
# Runs the engine, models, train and eval tests on the second addon, the one
# built against PyTorch 2.x (native/variants/torch2-cpu, from .venv-ref; both
# made by `scripts/setup.sh --test`). CI runs it after `npm test`, which
# covers the default build against Debian's libtorch 1.13.
set -euo pipefail
cd "$(dirname "$0")/.."
export TTTNN_ADDON=native/variants/torch2-cpu/build/Release/tttnn_native.node
version=$(node -e "import('./dist/src/engine/index.js').then((e) => console.log(e.engineInfo().torchVersion))")
case "$version" in
  2.*) printf 'test-torch2: %s loads libtorch %s\n' "$TTTNN_ADDON" "$version" >&2 ;;
  *) printf 'test-torch2: %s loads libtorch %s, not 2.x\n' "$TTTNN_ADDON" "$version" >&2; exit 1 ;;
esac
node scripts/run-tests.js engine/ models/ train/ eval/
