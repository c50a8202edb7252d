# Knobs of the Slurm pipeline (deploy/slurm/submit.sh sources this file).
# Every one can be set in the environment of `submit.sh` instead of here; the
# values below apply only to those left unset. Paths must be on a
# filesystem every node sees: the jobs read and write them from all nodes.

# --- what to run (required) ---------------------------------------------------
# TTTNN_WORK         shared working directory: logs/, the addresses file, results/, report/
# TTTNN_DATA_LIST    file listing the data files to serve, one path per line
#                    (the Pile: 00.jsonl .. 29.jsonl, one line each)
# TTTNN_EMBEDDER     encoder checkpoint directory the indexes are (or were) built with
# TTTNN_MODEL        causal LM checkpoint directory to evaluate
# TTTNN_TEST_DATA    test JSONL file to evaluate on
# TTTNN_TOKEN_FILE   shared secret of the servers, mode 600:
#                    (umask 077; openssl rand -hex 32 > "$TTTNN_WORK/token")

# --- where things go -----------------------------------------------------------
# Directory of <datafile>.index files (and embedding_model.txt): written by the
# index jobs, read by the servers. The original's published indexes go here.
: "${TTTNN_INDEX_DIR:=$TTTNN_WORK/indexes}"
# Addresses file the servers register in and the evaluation reads.
: "${TTTNN_ADDRESSES:=$TTTNN_WORK/addresses.txt}"
: "${TTTNN_RESULTS:=$TTTNN_WORK/results}"
: "${TTTNN_REPORT:=$TTTNN_WORK/report}"
# The tttnn command on the compute nodes (node must be on their PATH).
: "${TTTNN:=$TTTNN_REPO/bin/tttnn.js}"

# --- the pipeline ---------------------------------------------------------------
# 1 skips the index jobs: the indexes already exist in TTTNN_INDEX_DIR.
: "${TTTNN_SKIP_INDEX:=0}"
# Extra flags of `tttnn index build` (e.g. --factory IVF4096,PQ64 for a compressed index).
: "${TTTNN_INDEX_ARGS:=}"
# The compressed-Pile variant: a directory of Flat <file>.index files (the
# original's published Pile indexes) to convert with `tttnn index convert`, as
# an array over the data files, into TTTNN_INDEX_DIR instead of building
# indexes from text. Empty: build (index.sbatch). With it, give the servers
# less memory and --nprobe (README, "Compressed indexes"), e.g.
#   TTTNN_SERVE_SBATCH="--cpus-per-task=4 --mem=4G --time=3-00:00:00"
#   TTTNN_SERVE_NODES=2 TTTNN_SERVE_ARGS="--nprobe 64"
: "${TTTNN_CONVERT_FROM:=}"
# The compressed index's FAISS factory string, and further `index convert` flags.
: "${TTTNN_CONVERT_FACTORY:=PCAR128,IVF16384,PQ64np}"
: "${TTTNN_CONVERT_ARGS:=--train-sample 655360}"
# Shard servers per data file: slices of its index x replicas of each slice.
: "${TTTNN_SLICES:=1}"
: "${TTTNN_REPLICAS:=1}"
# Interface the servers listen on; 0.0.0.0 advertises the node's first
# non-loopback IPv4 address unless TTTNN_ADVERTISE_HOST names the node.
: "${TTTNN_SERVE_HOST:=0.0.0.0}"
: "${TTTNN_ADVERTISE_HOST:=}"
# Extra flags of `tttnn serve` (e.g. --mmap --search-param nprobe=32; for HTTPS
# --tls-cert F --tls-key F, the certificate naming the hosts the servers advertise).
: "${TTTNN_SERVE_ARGS:=}"
# With HTTPS servers: the CA certificate that signed them, passed as --ca to
# every client (probe --wait, eval, shutdown). Empty: plain HTTP.
: "${TTTNN_CA:=}"
# Nodes of the server job (default: one per data file, as the original ran).
: "${TTTNN_SERVE_NODES:=}"
# Evaluation processes: the array's size, i.e. the world size.
: "${TTTNN_EVAL_TASKS:=8}"
# Flags of `tttnn eval` beyond those the pipeline sets (--model, --embedder,
# --addresses, --token-file, --data, --results-dir, --rank, --world-size).
: "${TTTNN_EVAL_ARGS:=--method ttt}"
# How long each evaluation task waits for every server to answer.
: "${TTTNN_WAIT_SECONDS:=3600}"
# Extra flags of `tttnn report`.
: "${TTTNN_REPORT_ARGS:=}"

# --- Slurm resources (sbatch flags per job; add --partition, --account, ...) ----
# Given to every job.
: "${TTTNN_SBATCH_ARGS:=}"
# The original: 256 GB of RAM for the servers of one data file (a Flat index
# of its ~7M documents); a compressed index needs a fraction (README).
: "${TTTNN_INDEX_SBATCH:=--cpus-per-task=16 --mem=64G --time=1-00:00:00}"
# A conversion holds its training sample (--train-sample x 4 KiB at d = 1024), one chunk and the compressed codes.
: "${TTTNN_CONVERT_SBATCH:=--cpus-per-task=16 --mem=16G --time=1-00:00:00}"
: "${TTTNN_SERVE_SBATCH:=--cpus-per-task=8 --mem=256G --time=3-00:00:00}"
: "${TTTNN_EVAL_SBATCH:=--cpus-per-task=16 --mem=32G --time=3-00:00:00}"
: "${TTTNN_REPORT_SBATCH:=--cpus-per-task=2 --mem=8G --time=02:00:00}"
: "${TTTNN_STOP_SBATCH:=--cpus-per-task=1 --mem=1G --time=00:10:00}"
