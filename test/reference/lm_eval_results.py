# Reads tttnn's lm-evaluation-harness files with the harness's own code (the
# reference venv's lm_eval): utils.make_table over results_<date>.json (its
# "results" and "groups"), the file-name helpers its results loaders use, its
# hash_string and count_bytes/count_words over samples_<task>_<date>.jsonl,
# and datasets.load_dataset("json"), which the harness's published details
# are loaded with. Input (JSON on stdin): results (paths), samples (paths).
#
# pytablewriter (make_table's renderer) is not in the local pip store: a
# minimal Markdown writer stands in for it. Everything make_table decides —
# which keys are metrics, which stderr goes with which value, versions,
# n-shot, the task hierarchy, the number format — is the harness's code.
import json
import re
import sys
import types

shim = types.ModuleType("pytablewriter")


class _Writer:
    def __init__(self):
        self.headers = []
        self.value_matrix = []

    def dumps(self):
        rows = [self.headers, ["---"] * len(self.headers), *self.value_matrix]
        return "\n".join("|" + "|".join(str(c) for c in row) + "|" for row in rows)


shim.MarkdownTableWriter = _Writer
shim.LatexTableWriter = _Writer
sys.modules["pytablewriter"] = shim

import datasets  # noqa: E402
from lm_eval.api.task import ConfigurableTask  # noqa: E402
from lm_eval.utils import (  # noqa: E402
    get_file_datetime,
    get_file_task_name,
    get_results_filenames,
    get_sample_results_filenames,
    hash_string,
    make_table,
)

spec = json.load(sys.stdin)
out = {"tables": {}, "groups": {}, "results_files": get_results_filenames(spec["results"]), "sample_files": get_sample_results_filenames(spec["samples"]), "dates": {}, "samples": {}}
for path in spec["results"]:
    with open(path, encoding="utf-8") as f:
        results = json.load(f)
    out["dates"][path] = get_file_datetime(path.rsplit("/", 1)[1].replace(".json", ""))
    out["tables"][path] = make_table(results)
    out["groups"][path] = make_table(results, "groups")
for path in spec["samples"]:
    rows = datasets.load_dataset("json", data_files=path, split="train")
    checks = []
    for row in rows:
        doc = row["doc"]
        checks.append({
            "doc_id": row["doc_id"],
            "doc_hash_ok": row["doc_hash"] == hash_string(json.dumps(doc, indent=2, ensure_ascii=False)),
            "prompt_hash_ok": row["prompt_hash"] == hash_string(row["arguments"]["gen_args_0"]["arg_0"]),
            "target_hash_ok": row["target_hash"] == hash_string(str(row["target"])),
            "bytes_ok": row["byte_perplexity"][1] == ConfigurableTask.count_bytes(doc["text"]),
            "words_ok": row["word_perplexity"][1] == ConfigurableTask.count_words(doc["text"]),
            "resp": row["filtered_resps"][0],
            "neighbor_ids": row["tttnn"]["neighbor_ids"],
        })
    name = path.rsplit("/", 1)[1]
    out["samples"][path] = {"task": get_file_task_name(name), "rows": checks}
print(json.dumps(out))
