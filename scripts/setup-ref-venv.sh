#!/usr/bin/env bash
# Builds .venv-ref/, the reference Python environment of the tests and
# benchmarks: today's PyTorch (2.13, CPU wheel) beside Debian's python3-torch
# 1.13, plus the Hugging Face and evaluation packages later comparisons use.
# Everything comes from the machine's local pip store; nothing is fetched from
# the internet. Idempotent: a stamp holding the requirement list skips the
# build when nothing changed (about 1.5 minutes and 1.7 GB when it runs).
#
# The second native addon (native/variants/torch2-cpu, scripts/build-addon.sh)
# is built against this venv's torch/.
#
# Environment:
#   TTTNN_PIP_INDEX   the package index (default: file:///opt/pypi/simple
#                     where it exists, else pip's own configuration).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup-ref-venv: %s\n' "$*" >&2; }

venv=.venv-ref
# Resolved together, with their dependencies. torch is pinned to the CPU
# wheel's release (the store also holds 2.14.1, the CUDA build).
resolved=('torch==2.13.*' numpy transformers peft sentence-transformers tokenizers pyarrow tensorboard
  datasets more-itertools sacrebleu requests dill)
# lm-eval's full dependency list reaches packages the store does not hold
# (evaluate, sqlitedict, word2number, pytablewriter, rouge-score); without
# them `import lm_eval.evaluator`, lm_eval.models.huggingface and simple_evaluate
# on local JSON task data (test/eval/tasks-parity.test.ts) still work.
unresolved=(lm-eval)
python=/usr/bin/python3

stamp_text="$($python --version 2>&1); resolved: ${resolved[*]}; no-deps: ${unresolved[*]}"
stamp=$venv/.tttnn-stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ] && [ -x "$venv/bin/python" ]; then exit 0; fi

index=()
if [ -n "${TTTNN_PIP_INDEX:-}" ]; then
  index=(--index-url "$TTTNN_PIP_INDEX")
elif [ -d /opt/pypi/simple ]; then
  index=(--index-url file:///opt/pypi/simple)
fi

say "building $venv from the local pip store (about 1.5 minutes)"
start=$SECONDS
rm -rf "$venv"
$python -m venv "$venv"
log=/tmp/tttnn-ref-venv.log
pip=("$venv/bin/pip" install --disable-pip-version-check --no-input "${index[@]}")
{ "${pip[@]}" "${resolved[@]}" && "${pip[@]}" --no-deps "${unresolved[@]}"; } >"$log" 2>&1 ||
  { grep -v 'is ignored: it is neither' "$log" | tail -n 30 >&2; say "pip install failed (log: $log)"; exit 1; }
"$venv/bin/python" -c 'import torch, transformers, peft, sentence_transformers, tokenizers, pyarrow, tensorboard, lm_eval.evaluator' ||
  { say "$venv was built but its packages do not import"; exit 1; }
echo "$stamp_text" >"$stamp"
say "built $venv in $((SECONDS - start)) s (torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)'))"
