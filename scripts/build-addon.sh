#!/usr/bin/env bash
# Builds the native addon (native/) when its sources changed since the last
# build of the same kind; otherwise does nothing.
#
#   scripts/build-addon.sh
#       the default addon, native/build/Release/tttnn_native.node, against
#       Debian's libtorch, or against $TORCH_DIR when set (README).
#   scripts/build-addon.sh NAME TORCH_DIR
#       a second addon against the PyTorch at TORCH_DIR (its torch/ package
#       directory), in native/variants/NAME/build/Release/tttnn_native.node;
#       native/build is not touched. Run tttnn with it through
#       TTTNN_ADDON=native/variants/NAME/build/Release/tttnn_native.node.
#
# node-gyp always builds into build/ beside binding.gyp, so a variant is a
# directory of links to native/'s binding.gyp, torch-config.cjs and src/.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'build-addon: %s\n' "$*" >&2; }

if [ $# -eq 0 ]; then
  dir=native
  torch_dir=${TORCH_DIR:-}
  label="the native addon"
elif [ $# -eq 2 ]; then
  case "$1" in
    *[!A-Za-z0-9._-]*|"") say "variant name '$1' must be letters, digits, '.', '_' or '-'"; exit 2 ;;
  esac
  dir=native/variants/$1
  torch_dir=$2
  label="the native addon against $torch_dir ($dir)"
  if [ ! -f "$torch_dir/include/ATen/ATen.h" ]; then
    say "$torch_dir has no include/ATen/ATen.h: give a PyTorch install's torch/ directory"
    exit 2
  fi
  mkdir -p "$dir"
  for entry in binding.gyp torch-config.cjs src; do ln -sfn "../../$entry" "$dir/$entry"; done
else
  say "usage: scripts/build-addon.sh [NAME TORCH_DIR]"
  exit 2
fi

addon=$dir/build/Release/tttnn_native.node
# The sources, the libtorch (its path, and its library's size and time: a
# reinstalled venv at the same path is another libtorch) and Node's version.
torch_lib_id=""
if [ -n "$torch_dir" ]; then torch_lib_id=$(stat -c '%s %Y' "$torch_dir/lib/libtorch_cpu.so" 2>/dev/null || true); fi
hash=$( (cat native/binding.gyp native/torch-config.cjs native/src/*; echo "TORCH_DIR=$torch_dir $torch_lib_id"; node --version) | sha256sum | cut -d' ' -f1)
stamp=$dir/build/.tttnn-source-hash
if [ -f "$addon" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then exit 0; fi

log=/tmp/tttnn-node-gyp-$(basename "$dir").log
say "building $label (a few minutes)"
start=$SECONDS
TORCH_DIR=$torch_dir npx node-gyp rebuild --directory "$dir" --jobs "$(nproc)" >"$log" 2>&1 ||
  { tail -n 60 "$log" >&2; say "native build failed (full log: $log)"; exit 1; }
echo "$hash" >"$stamp"
say "built $addon in $((SECONDS - start)) s"
