"""LoRA test-time training with PEFT itself, the reference for tttnn's
--trainable lora (test/eval/lora-parity.test.ts, test/models/lora.test.ts).
Runs in the reference venv (transformers + peft + torch).

Input (JSON on stdin):
  model_dir      a Hugging Face checkpoint tttnn wrote (config.json, model.safetensors)
  adapter_dir    a PEFT adapter directory (PeftModel.from_pretrained loads it)
  mode           "logits": {ids} -> the logits of base + adapter, flattened;
                 "ttt": {tasks: [[{scored, train}]], settings} -> per task, per
                 document, the log-likelihood curve: scored before training and
                 after each training text; one torch.optim.AdamW per task over the
                 adapter's parameters; per window of max_length every stride tokens:
                 zero_grad, loss.backward(), clip_grad_norm_(adapter, clip), step;
                 the adapter reset to its start after each document. The base
                 weights' largest absolute change is returned (0: untouched).
"""
import json, sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from lm_eval_windows import get_rolling_token_windows, make_disjoint_window

D = json.load(sys.stdin)
torch.manual_seed(0)
base = AutoModelForCausalLM.from_pretrained(D['model_dir'], torch_dtype=torch.float32, attn_implementation='eager')
base.eval()
model = PeftModel.from_pretrained(base, D['adapter_dir'], is_trainable=True)
model.eval()
base_before = {n: p.detach().clone() for n, p in model.named_parameters() if 'lora_' not in n}


def logits(ids):
    return model(input_ids=torch.tensor([ids], dtype=torch.long)).logits


if D['mode'] == 'logits':
    with torch.no_grad():
        out = logits(D['ids'])
    print(json.dumps({'logits': out.flatten().tolist(), 'trainable': [n for n, p in model.named_parameters() if p.requires_grad]}))
    sys.exit(0)

S = D['settings']
N_CTX = S['score_length']


def rolling_loglikelihood(tokens):  # lm_eval/base.py:187-234 with lm_eval/utils.py's windows
    total = 0.0
    with torch.no_grad():
        for context, continuation in map(make_disjoint_window, get_rolling_token_windows(tokens, S['eos'], N_CTX, 1)):
            inp = (context + continuation)[-(N_CTX + 1):][:-1]
            logp = torch.log_softmax(logits(inp), dim=-1)[0]
            n = len(continuation)
            picked = logp[len(inp) - n:len(inp)].gather(1, torch.tensor(continuation)[:, None])
            total += float(picked.sum())
    return total


params = [p for p in model.parameters() if p.requires_grad]
start = [p.detach().clone() for p in params]
curves = []
for task in D['tasks']:
    optimizer = torch.optim.AdamW(params, lr=S['learning_rate'], eps=S['adam_epsilon'], weight_decay=S['weight_decay'])
    task_curves = []
    for doc in task:
        curve = [rolling_loglikelihood(doc['scored'])]
        for tokens in doc['train']:
            model.train()
            for s in range(0, len(tokens), S['stride']):
                window = tokens[s:s + S['max_length']]
                optimizer.zero_grad(set_to_none=False)
                ids = torch.tensor([window], dtype=torch.long)
                if len(window) >= 2:
                    model(input_ids=ids, labels=ids).loss.backward()
                else:
                    (model(input_ids=ids).logits.sum() * 0).backward()
                torch.nn.utils.clip_grad_norm_(params, S['grad_clip'])
                optimizer.step()
            model.eval()
            curve.append(rolling_loglikelihood(doc['scored']))
        with torch.no_grad():
            for p, s0 in zip(params, start):
                p.copy_(s0)
        task_curves.append(curve)
    curves.append(task_curves)

after = dict(model.named_parameters())
changed = max(float((after[n] - v).abs().max()) for n, v in base_before.items())
print(json.dumps({'curves': curves, 'base_change': changed, 'adapted': len(params) // 2}))
