# Reads TensorBoard event files with TensorBoard's own EventAccumulator (the
# reference venv's tensorboard) and returns every scalar series; also
# TensorBoard's masked_crc32c of given byte strings (hex), to compare with
# tttnn's. Input (JSON on stdin): logdir, crc_inputs (hex strings).
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

spec = json.load(sys.stdin)
out = {"masked_crc32c": [masked_crc32c(bytes.fromhex(h)) for h in spec.get("crc_inputs", [])], "scalars": {}}
if spec.get("logdir"):
    accumulator = EventAccumulator(spec["logdir"], size_guidance={"scalars": 0})
    accumulator.Reload()
    for tag in accumulator.Tags()["scalars"]:
        out["scalars"][tag] = [{"step": e.step, "value": e.value, "wall_time": e.wall_time} for e in accumulator.Scalars(tag)]
print(json.dumps(out))
