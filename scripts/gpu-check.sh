#!/usr/bin/env bash
# The GPU check, one short run (about 10 minutes on a GPU machine once the
# wheels are installed):
#   1. .venv-cuda/: PyTorch 2.14.1 (CUDA 13) and its nvidia-* wheels from the
#      local pip store (torch with --no-deps: cuda-bindings and triton, which
#      only Python code needs, are not in the store); about 4.5 GB.
#   2. the addon built against it, in native/variants/torch2-cuda/ (no nvcc
#      needed: the addon calls libtorch, which brings its own CUDA kernels);
#      `tttnn info` with it (libtorch, CUDA devices).
#   3. the models' parity tests and the host-read counts (test/engine/
#      host-reads.test.ts) on cuda; a TTT curve on cuda against the same curve
#      on the CPU, within 1e-3 relative (bench/ttt-device-curve.ts);
#      bench:ttt (GPT-2-small, seconds per neighbour) on cuda, tttnn vs
#      PyTorch 2.14 on the same GPU, beside the original's 5.5 s on an A100.
# Without a GPU, steps 1-2 run, `tttnn info` must say 0 CUDA devices, and the
# same tests and the CPU curve run on the CPU with the CUDA build; the GPU
# figures are reported as not measured.
#
#   bash scripts/gpu-check.sh          (BENCH_QUICK=1: a smaller bench:ttt)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'gpu-check: %s\n' "$*" >&2; }

bash scripts/setup.sh
venv=.venv-cuda
stamp_text="torch==2.14.1 cuda-toolkit==13.0.3 (no-deps torch)"
if [ ! -f "$venv/.tttnn-stamp" ] || [ "$(cat "$venv/.tttnn-stamp")" != "$stamp_text" ]; then
  say "building $venv from the local pip store (a few minutes, about 4.5 GB)"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  index=()
  if [ -d /opt/pypi/simple ]; then index=(--index-url file:///opt/pypi/simple); fi
  pip=("$venv/bin/pip" install --disable-pip-version-check --no-input "${index[@]}")
  "${pip[@]}" --no-deps 'torch==2.14.1' >/tmp/tttnn-cuda-venv.log 2>&1
  # torch 2.14.1's own Requires-Dist, less cuda-bindings and triton.
  "${pip[@]}" 'cuda-toolkit[cublas,cudart,cufft,cufile,cupti,curand,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.0.3' \
    nvidia-cudnn-cu13==9.24.0.43 nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 nvidia-nvshmem-cu13==3.4.5 \
    filelock typing-extensions sympy networkx jinja2 fsspec numpy >>/tmp/tttnn-cuda-venv.log 2>&1 ||
    { grep -v 'is ignored: it is neither' /tmp/tttnn-cuda-venv.log | tail -n 30 >&2; say "pip install failed"; exit 1; }
  echo "$stamp_text" >"$venv/.tttnn-stamp"
fi
torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
bash scripts/build-addon.sh torch2-cuda "$torch_dir"

export TTTNN_ADDON=native/variants/torch2-cuda/build/Release/tttnn_native.node
node bin/tttnn.js info
gpus=$(node bin/tttnn.js info --json | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).cudaDevices))')
cuda_build=$(node bin/tttnn.js info --json | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).cudaBuild))')
[ "$cuda_build" = true ] || { say "$TTTNN_ADDON does not load libtorch_cuda"; exit 1; }

if [ "$gpus" -gt 0 ]; then device=cuda; else device=cpu; fi
say "$gpus CUDA devices: the tests and the curve run on $device"
TTTNN_TEST_DEVICE=$device node scripts/run-tests.js models/parity engine/host-reads
BENCH_DEVICE=$device node dist/bench/ttt-device-curve.js
if [ "$gpus" -gt 0 ]; then
  TTTNN_TORCH2_PYTHON=$PWD/$venv/bin/python BENCH_DEVICE=cuda node dist/bench/ttt.js
else
  say "no GPU here: the CUDA build loads and runs on the CPU; GPU figures (parity on cuda, the cuda curve, bench:ttt on cuda) not measured"
fi
