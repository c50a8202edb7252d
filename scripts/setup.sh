#!/usr/bin/env bash
# Installs what tttnn needs and builds it. Idempotent: each step is skipped
# when already done, so `npm test` and `npm run demo` can call it every time.
#
#   1. Debian packages: libtorch (the tensor engine), OpenBLAS (without it
#      libtorch's matmul is ~30x slower), FAISS (indexes), DejaVu fonts for
#      the report's PNG plots. With --test or --bench also PyTorch, FAISS and
#      NumPy for Python, which tests and benchmarks use as independent
#      references (never tttnn itself, so `npm run demo` skips them); with
#      --test also Chromium, in which the tests open the HTML report (headless),
#      and Slurm (slurmctld, slurmd, slurm-client) with munge, which
#      test/deploy/slurm.test.ts starts as a single-node cluster of its own.
#   2. npm ci, when package-lock.json changed since the last install.
#   3. The native addon (native/), when its sources changed
#      (scripts/build-addon.sh).
#   4. With --test or --bench: the reference venv .venv-ref/ (PyTorch 2.13 CPU
#      and the Hugging Face packages, from the local pip store:
#      scripts/setup-ref-venv.sh) and a second addon built against its
#      libtorch in native/variants/torch2-cpu/ (native/build is untouched);
#      tests and benchmarks compare with PyTorch 2.x and CI runs the engine,
#      models, train and eval tests on that addon too.
#   5. The TypeScript build (dist/).
#
# Environment:
#   TORCH_DIR=/path/to/site-packages/torch   build against that PyTorch's
#       libtorch (e.g. a CUDA build) instead of Debian's libtorch-dev.
#   TTTNN_SKIP_APT=1   never call apt-get (report missing packages instead).
set -euo pipefail
cd "$(dirname "$0")/.."
for_tests=0
for_bench=0
case "${1:-}" in
  --test) for_tests=1; for_bench=1 ;;
  --bench) for_bench=1 ;;
  "") ;;
  *) printf 'setup: unknown option %s (use --test, --bench or nothing)\n' "$1" >&2; exit 2 ;;
esac

say() { printf 'setup: %s\n' "$*" >&2; }

# ---- 1. Debian packages ----------------------------------------------------
packages=(libopenblas-dev libfaiss-dev zstd fonts-dejavu-core)
if [ "$for_bench" = 1 ]; then packages+=(python3-torch python3-faiss python3-numpy); fi
if [ -z "${TORCH_DIR:-}" ]; then packages+=(libtorch-dev); fi
if [ "$for_tests" = 1 ]; then packages+=(chromium openssl slurmctld slurmd slurm-client munge); fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && [ -z "${TTTNN_SKIP_APT:-}" ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Debian's slurmd, slurmctld and munge start their system services when
    # installed; without /etc/slurm/slurm.conf that start fails the install,
    # and the tests run a cluster of their own anyway. Where no policy-rc.d
    # exists (Docker images ship one), one that denies service starts is in
    # place for the length of the install.
    own_policy=0
    case " ${missing[*]} " in
      *" slurmd "*|*" slurmctld "*|*" munge "*)
        if [ ! -e /usr/sbin/policy-rc.d ]; then
          printf '#!/bin/sh\n# tttnn setup.sh: no service starts while installing Slurm\nexit 101\n' >/usr/sbin/policy-rc.d
          chmod 755 /usr/sbin/policy-rc.d
          own_policy=1
          trap 'rm -f /usr/sbin/policy-rc.d' EXIT # if the install fails or is interrupted
        fi ;;
    esac
    # Package lists may be absent on a fresh machine; update once if the install fails.
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/tttnn-apt.log 2>&1; then
      apt-get update >>/tmp/tttnn-apt.log 2>&1
      apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/tttnn-apt.log 2>&1 ||
        { cat /tmp/tttnn-apt.log >&2; say "apt-get install failed (log above)"; exit 1; }
    fi
    # Services may start again as soon as the install is done, not after the build below.
    if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  else
    say "missing Debian packages: ${missing[*]}"
    say "install them as root:  apt-get install ${missing[*]}"
    say "or build against an existing PyTorch:  TORCH_DIR=\$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))') npm run setup"
    say "(python3-torch / python3-faiss are only needed by the tests and benchmarks)"
    exit 1
  fi
fi

# libtorch must reach OpenBLAS through the libblas.so.3 alternative; the
# reference BLAS that may sit there instead is ~30x slower.
if [ -z "${TORCH_DIR:-}" ] && command -v update-alternatives >/dev/null; then
  blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n 's/^Value: //p')
  case "$blas" in
    *openblas*|"") ;;
    *) say "warning: libblas.so.3 points at $blas, not OpenBLAS; matmul will be slow." \
          "Fix: update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3" ;;
  esac
fi

# ---- 2. npm dependencies -----------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.tttnn-lock-hash
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund >&2
  echo "$lock_hash" >"$stamp"
fi

# ---- 3. native addon ---------------------------------------------------------
bash scripts/build-addon.sh

# ---- 4. PyTorch 2.x: the reference venv and the addon against it ---------------
if [ "$for_bench" = 1 ]; then
  bash scripts/setup-ref-venv.sh
  bash scripts/build-addon.sh torch2-cpu "$(.venv-ref/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)"
fi

# ---- 5. TypeScript -------------------------------------------------------------
npx tsc -p tsconfig.json
say "ready ($SECONDS s)"
