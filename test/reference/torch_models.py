"""Reference models in plain PyTorch for the benchmarks: a GPT-2-shaped
decoder (pre-LN, fused q/k/v, tied lm_head) and a RoBERTa-shaped encoder
(post-LN, separate q/k/v), built like Hugging Face's, with random weights.

Each runs at its best on the PyTorch it is given: where
F.scaled_dot_product_attention exists (PyTorch 2.x) attention uses it (the
fused kernels Hugging Face picks by default there); python3-torch 1.13 has
none and runs the explicit softmax(QK^T)V. Tensors are made on the device of
the inputs, so the same model runs on a GPU (scripts/gpu-check.sh)."""
import math, time
import torch
import torch.nn as nn
import torch.nn.functional as F

SDPA = hasattr(F, 'scaled_dot_product_attention')


class Block(nn.Module):
    def __init__(s, C, H, post, p=0.0):
        super().__init__(); s.H, s.post, s.p = H, post, p
        s.ln1, s.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.proj, s.fc, s.out = nn.Linear(C, C), nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        # GPT-2 has one fused q/k/v projection (c_attn); RoBERTa has three (query, key, value).
        if post: s.q, s.k, s.v = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)
        else: s.qkv = nn.Linear(C, 3 * C)
    def attn(s, x, causal):
        B, T, C = x.shape
        qkv = (s.q(x), s.k(x), s.v(x)) if s.post else s.qkv(x).split(C, dim=2)
        q, k, v = [t.view(B, T, s.H, C // s.H).transpose(1, 2) for t in qkv]
        if SDPA:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=s.p if s.training else 0.0, is_causal=causal is not None)
            return s.proj(y.transpose(1, 2).reshape(B, T, C))
        a = (q @ k.transpose(-1, -2)) / math.sqrt(C // s.H)
        if causal is not None: a = a.masked_fill(causal, torch.finfo(a.dtype).min)
        return s.proj((F.dropout(a.softmax(-1), s.p, s.training) @ v).transpose(1, 2).reshape(B, T, C))
    def forward(s, x, causal):
        if s.post:
            x = s.ln1(x + s.attn(x, causal)); return s.ln2(x + s.out(F.gelu(s.fc(x))))
        x = x + F.dropout(s.attn(s.ln1(x), causal), s.p, s.training)
        return x + F.dropout(s.out(F.gelu(s.fc(s.ln2(x)), approximate='tanh')), s.p, s.training)
class Model(nn.Module):
    def __init__(s, V, T, C, L, H, post, p=0.0):
        super().__init__(); s.post, s.p = post, p
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(T + 2, C)
        s.blocks = nn.ModuleList([Block(C, H, post, p) for _ in range(L)]); s.lnf = nn.LayerNorm(C)
    def forward(s, ids):
        T = ids.shape[1]
        x = F.dropout(s.wte(ids) + s.wpe(torch.arange(T, device=ids.device)), s.p, s.training)
        causal = None if s.post else torch.ones(T, T, dtype=torch.bool, device=ids.device).triu(1)
        for b in s.blocks: x = b(x, causal)
        return x if s.post else s.lnf(x) @ s.wte.weight.T


def gpt_train_seconds(vocab, seq, d, layers, heads, batch, steps, dropout=0.0, bf16=False):
    """Mean seconds of one AdamW training step on random token batches
    (bf16: forward and loss under torch.autocast('cpu', bfloat16))."""
    m = Model(vocab, seq, d, layers, heads, False, dropout)
    m.train()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    def step():
        opt.zero_grad()
        ids = torch.randint(0, vocab, (batch, seq))
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            logits = m(ids)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) / steps


def encoder_forward_seconds(vocab, seq, d, layers, heads, batch, steps, bf16=False):
    """Mean seconds of one no-grad forward pass (bf16: under torch.autocast('cpu', bfloat16))."""
    enc = Model(vocab, seq, d, layers, heads, True)
    enc.eval()
    def fwd():
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            enc(torch.randint(3, vocab, (batch, seq)))
    fwd()
    t = time.perf_counter()
    for _ in range(steps):
        fwd()
    return (time.perf_counter() - t) / steps
