# Writes a Pile-format Parquet file with pyarrow (the reference venv's), as
# the Pile's public Parquet copies are laid out: "text" plus "meta" (a struct
# with pile_set_name, or a JSON string of one) or a "pile_set_name" column.
# Input (JSON on stdin): path, rows [{text: str|null, task: str}],
# row_group_size, meta ("struct" | "json" | "pile_set_name"), compression;
# optionally text_encoding (the text column as binary in that encoding, e.g.
# "latin-1": bytes that are not UTF-8) and text_column (another name for it).
# Prints the file's row groups as pyarrow reads them back.
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq

spec = json.load(sys.stdin)
texts = [row["text"] for row in spec["rows"]]
tasks = [row["task"] for row in spec["rows"]]
encoding = spec.get("text_encoding")
text = pa.array([t if t is None else t.encode(encoding) for t in texts], type=pa.binary()) if encoding else pa.array(texts, type=pa.string())
columns = {spec.get("text_column", "text"): text}
if spec["meta"] == "struct":
    columns["meta"] = pa.array([{"pile_set_name": t} for t in tasks], type=pa.struct([("pile_set_name", pa.string())]))
elif spec["meta"] == "json":
    columns["meta"] = pa.array([json.dumps({"pile_set_name": t}) for t in tasks], type=pa.string())
else:
    columns["pile_set_name"] = pa.array(tasks, type=pa.string())
pq.write_table(pa.table(columns), spec["path"], row_group_size=spec["row_group_size"], compression=spec["compression"])
meta = pq.ParquetFile(spec["path"]).metadata
print(json.dumps({"row_groups": [meta.row_group(i).num_rows for i in range(meta.num_row_groups)], "rows": meta.num_rows}))
