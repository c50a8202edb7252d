#!/usr/bin/env bash
# Submits the whole tttnn pipeline to Slurm, each stage a job that depends on
# the one before it:
#
#   index   array over the data files: tttnn index build   (skipped with TTTNN_SKIP_INDEX=1)
#           or, with TTTNN_CONVERT_FROM, "convert": tttnn index convert of the Flat
#           indexes there (the original's), the compressed-Pile variant
#   serve   one job, a task per data file: tttnn serve      (afterok: index)
#   eval    array of TTTNN_EVAL_TASKS: tttnn probe --wait, then tttnn eval --rank auto
#                                                           (after: serve has started)
#   report  tttnn report over every rank's results          (afterok: eval)
#   stop    tttnn shutdown of the servers                   (afterany: eval)
#
# Knobs: deploy/slurm/config.sh (each may be set in the environment instead).
# Prints one "stage job-id" line per job. Usage:
#   TTTNN_WORK=/shared/run1 TTTNN_DATA_LIST=... TTTNN_EMBEDDER=... TTTNN_MODEL=... \
#   TTTNN_TEST_DATA=... TTTNN_TOKEN_FILE=... bash deploy/slurm/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TTTNN_REPO=$(cd "$here/../.." && pwd)
die() { printf 'submit.sh: %s\n' "$*" >&2; exit 2; }

for required in TTTNN_WORK TTTNN_DATA_LIST TTTNN_EMBEDDER TTTNN_MODEL TTTNN_TEST_DATA TTTNN_TOKEN_FILE; do
  [ -n "${!required:-}" ] || die "$required is not set (deploy/slurm/config.sh lists every knob)"
done
set -a
# shellcheck source=config.sh
source "$here/config.sh"
set +a
[ -f "$TTTNN_DATA_LIST" ] || die "TTTNN_DATA_LIST=$TTTNN_DATA_LIST: no such file"
[ -f "$TTTNN_TOKEN_FILE" ] || die "TTTNN_TOKEN_FILE=$TTTNN_TOKEN_FILE: no such file; create it with: (umask 077; openssl rand -hex 32 > $TTTNN_TOKEN_FILE)"
command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm login node"
mkdir -p "$TTTNN_WORK/logs" "$TTTNN_INDEX_DIR" "$TTTNN_RESULTS"
# The jobs pick their data file by line number: give them the list without blank lines or
# surrounding spaces (and with a final newline), so line i+1 is always the i-th file.
list="$TTTNN_WORK/data-files.list"
grep -v '^[[:space:]]*$' "$TTTNN_DATA_LIST" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' >"$list" || true
files=$(wc -l <"$list")
[ "$files" -ge 1 ] || die "TTTNN_DATA_LIST=$TTTNN_DATA_LIST lists no data file"
while read -r data; do
  [ -f "$data" ] || die "$TTTNN_DATA_LIST names $data, which does not exist"
done <"$list"
TTTNN_DATA_LIST=$list

# What the jobs read from their environment (sbatch exports it by default).
export TTTNN TTTNN_DATA_LIST TTTNN_SERVERS=$((files * TTTNN_SLICES * TTTNN_REPLICAS))
# A previous run's addresses would point the evaluation at servers long gone.
rm -f "$TTTNN_ADDRESSES"

submit() { # submit NAME FLAGS... SCRIPT: prints the job id
  local name=$1; shift
  # A job whose dependency failed is cancelled (--kill-on-invalid-dep), not left pending forever.
  # shellcheck disable=SC2086 # the knobs hold several flags each
  sbatch --parsable --export=ALL --kill-on-invalid-dep=yes --job-name="tttnn-$name" --output="$TTTNN_WORK/logs/%x-%A_%a.out" $TTTNN_SBATCH_ARGS "$@" | cut -d';' -f1
}

after_index=()
if [ -n "$TTTNN_CONVERT_FROM" ]; then
  # The compressed-Pile variant: convert the Flat indexes instead of building from text.
  [ "$TTTNN_SKIP_INDEX" != 1 ] || die "TTTNN_SKIP_INDEX=1 and TTTNN_CONVERT_FROM=$TTTNN_CONVERT_FROM: the conversion is the index stage; unset one"
  while read -r data; do
    [ -f "$TTTNN_CONVERT_FROM/$(basename "$data").index" ] || die "TTTNN_CONVERT_FROM=$TTTNN_CONVERT_FROM has no $(basename "$data").index to convert (for $data)"
  done <"$list"
  # shellcheck disable=SC2086
  convert=$(submit convert --array="0-$((files - 1))" $TTTNN_CONVERT_SBATCH "$here/convert.sbatch")
  echo "convert $convert"
  after_index=(--dependency="afterok:$convert")
elif [ "$TTTNN_SKIP_INDEX" != 1 ]; then
  # shellcheck disable=SC2086
  index=$(submit index --array="0-$((files - 1))" $TTTNN_INDEX_SBATCH "$here/index.sbatch")
  echo "index $index"
  after_index=(--dependency="afterok:$index")
fi
# shellcheck disable=SC2086
serve=$(submit serve "${after_index[@]}" --nodes="${TTTNN_SERVE_NODES:-$files}" --ntasks="$files" $TTTNN_SERVE_SBATCH "$here/serve.sbatch")
echo "serve $serve"
# The evaluation and stop jobs check on the server job by its id.
export TTTNN_SERVE_JOB=$serve
# shellcheck disable=SC2086
eval_job=$(submit eval --dependency="after:$serve" --array="0-$((TTTNN_EVAL_TASKS - 1))" $TTTNN_EVAL_SBATCH "$here/eval.sbatch")
echo "eval $eval_job"
# shellcheck disable=SC2086
report=$(submit report --dependency="afterok:$eval_job" $TTTNN_REPORT_SBATCH "$here/report.sbatch")
echo "report $report"
# shellcheck disable=SC2086
stop=$(submit stop --dependency="afterany:$eval_job" $TTTNN_STOP_SBATCH "$here/stop.sbatch")
echo "stop $stop"
