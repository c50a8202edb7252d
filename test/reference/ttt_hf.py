"""The original TTT-NN loop (socialfoundations/tttlm code/eval_tttlm.py) on a
transformers model in the reference venv: the parity reference for TTT on
today's decoders (test/models/families-ttt.test.ts). Transcribed where it
computes something: train_single (:216-252, windows of max_length every
stride tokens, add_special_tokens=False, model(input_ids, labels=input_ids)
loss, clip_grad_norm_ 1.0, one torch.optim.AdamW(lr, eps=1e-8) per task
:82), the curve of loglikelihood_rolling after each neighbour
(lm_eval/base.py:187-234 with the prefix token HFLM uses) and the weight
reset after each document (:304-306).

stdin: {dir, docs: [[scored ids]], neighbours: [[[ids]]], prefix, learning_rate, max_length, stride}
stdout: {curves: [[loglikelihood after 0..k neighbours] per document]}
"""
import json
import sys

import torch
import torch.nn.functional as F

from lm_eval_windows import get_rolling_token_windows, make_disjoint_window


def main():
    from transformers import AutoModelForCausalLM

    D = json.load(sys.stdin)
    model = AutoModelForCausalLM.from_pretrained(D["dir"], dtype=torch.float32)
    n_ctx = model.config.max_position_embeddings
    original = {k: v.detach().clone() for k, v in model.state_dict().items()}
    params = [p for p in model.parameters() if p.requires_grad]

    def loglikelihood_rolling(tokens):
        model.eval()
        total = 0.0
        windows = map(make_disjoint_window, get_rolling_token_windows(tokens, D["prefix"], n_ctx, 1))
        for context, continuation in windows:
            inp = torch.tensor((context + continuation)[-(n_ctx + 1):][:-1])[None]
            with torch.no_grad():
                logprobs = F.log_softmax(model(inp).logits, dim=-1)[0]
            n = len(continuation)
            picked = logprobs[inp.shape[1] - n:].gather(1, torch.tensor(continuation)[:, None])
            total += float(picked.sum())
        return total

    def train_single(optimizer, tokens):
        model.train()
        input_ids = torch.tensor([tokens])
        for begin in range(0, input_ids.size(1), D["stride"]):
            inputs = input_ids[:, begin:begin + D["max_length"]]
            model.zero_grad(set_to_none=False)  # torch 1.13's model.zero_grad(), which the original ran on
            loss = model(input_ids=inputs, labels=inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()

    optimizer = torch.optim.AdamW(params, lr=D["learning_rate"], eps=1e-8)
    curves = []
    for scored, neighbours in zip(D["docs"], D["neighbours"]):
        curve = [loglikelihood_rolling(scored)]
        for tokens in neighbours:
            train_single(optimizer, tokens)
            curve.append(loglikelihood_rolling(scored))
        model.load_state_dict(original)
        curves.append(curve)
    json.dump({"curves": curves}, sys.stdout)
