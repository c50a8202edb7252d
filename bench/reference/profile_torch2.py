"""Where a GPT-2-small TTT step goes in PyTorch 2.x, op by op: the reference
side of bench:profile (bench/profile.ts), on the same shapes and protocol.

One training step on a 1024-token window (Hugging Face transformers'
GPT2LMHeadModel with sdpa attention, dropout 0, full-vocabulary cross
entropy, clip_grad_norm_ 1.0, torch.optim.AdamW) and one evaluation of a
1024-token document under no_grad, after one warm-up neighbour, with
torch.profiler on: calls, self CPU time and share per ATen op.

    .venv-ref/bin/python bench/reference/profile_torch2.py [--quick] [--threads N] [--top N] [--json]

--quick: 4 layers, d 512, 512 tokens (BENCH_QUICK's shape). --json prints
the table as JSON (bench/profile.ts reads it to print both sides).
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F
import transformers
from torch.profiler import ProfilerActivity, profile

parser = argparse.ArgumentParser()
parser.add_argument('--quick', action='store_true')
parser.add_argument('--threads', type=int, default=torch.get_num_threads())
parser.add_argument('--top', type=int, default=20)
parser.add_argument('--json', action='store_true')
args = parser.parse_args()

shape = dict(layers=4, d=512, heads=8, seq=512) if args.quick else dict(layers=12, d=768, heads=12, seq=1024)
vocab = 50257
torch.set_num_threads(args.threads)
torch.manual_seed(0)
config = transformers.GPT2Config(vocab_size=vocab, n_positions=shape['seq'], n_embd=shape['d'], n_layer=shape['layers'],
                                 n_head=shape['heads'], resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)
model = transformers.GPT2LMHeadModel._from_config(config, attn_implementation='sdpa')
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, eps=1e-8, weight_decay=0)
ids = torch.tensor([[(i * 7919) % vocab for i in range(shape['seq'])]])


def neighbour():
    """One neighbour of TTT: a training step, then an evaluation (as bench/profile.ts)."""
    model.train()
    optimizer.zero_grad(set_to_none=False)
    logits = model(input_ids=ids).logits
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(input_ids=ids).logits
        F.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1)).item()


neighbour()  # warm-up
started = time.perf_counter()
with profile(activities=[ProfilerActivity.CPU]) as prof:
    neighbour()
wall = time.perf_counter() - started
ops = [dict(name=e.key, calls=e.count, selfUs=e.self_cpu_time_total) for e in prof.key_averages() if e.key.startswith('aten::')]
ops.sort(key=lambda op: -op['selfUs'])
total = sum(op['selfUs'] for op in ops)
if args.json:
    print(json.dumps(dict(torch=torch.__version__, wall=wall, ops=ops)))
else:
    print(f"PyTorch {torch.__version__}, {args.threads} threads, GPT-2 TTT step + evaluation, {shape['layers']} layers, d {shape['d']}, "
          f"{shape['seq']} tokens: {wall:.2f} s wall (profiler on), {total / 1e6:.2f} s in ATen ops")
    print(f"{'op (self time)':>40} {'calls':>6} {'ms':>9} {'% of ops':>8}")
    for op in ops[:args.top]:
        print(f"{op['name']:>40} {op['calls']:>6} {op['selfUs'] / 1000:>9.2f} {100 * op['selfUs'] / total:>8.2f}")
    gemm = sum(op['selfUs'] for op in ops if op['name'] in ('aten::mm', 'aten::addmm', 'aten::bmm'))
    print(f"GEMMs (mm, addmm, bmm): {100 * gemm / total:.1f} % of op time")
