#!/usr/bin/env bash
# Runs the engine, models and train tests, and the evaluation's parity tests
# (the TTT loop and the baselines against their transcription, LoRA against
# PEFT), on the second addon, the one built against PyTorch 2.x
# (native/variants/torch2-cpu, from .venv-ref; both made by `scripts/setup.sh
# --test`). CI runs it after `npm test`, which covers the default build against
# Debian's libtorch 1.13. The rest of eval/ (servers, reruns, tasks, reports)
# does not depend on the libtorch generation and is left to `npm test`, to keep
# CI under 30 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export TTTNN_ADDON=native/variants/torch2-cpu/build/Release/tttnn_native.node
version=$(node -e "import('./dist/src/engine/index.js').then((e) => console.log(e.engineInfo().torchVersion))")
case "$version" in
  2.*) printf 'test-torch2: %s loads libtorch %s\n' "$TTTNN_ADDON" "$version" >&2 ;;
  *) printf 'test-torch2: %s loads libtorch %s, not 2.x\n' "$TTTNN_ADDON" "$version" >&2; exit 1 ;;
esac
node scripts/run-tests.js engine/ models/ train/ eval/parity eval/lora-parity
