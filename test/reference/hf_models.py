"""PyTorch reference forward passes for tttnn's models (test/models/parity.test.ts):
GPT-2, GPT-Neo and RoBERTa written out with Hugging Face's parameter names,
independently of tttnn's code. Reads {config, dir, ids, format,
attention_mask?, labels?} as JSON on stdin; writes a tiny randomly initialised
checkpoint to `dir` (pytorch_model.bin by torch.save, or model.safetensors
written by hand), then prints the logits, the loss, every parameter's gradient
(and RoBERTa's mean-pooled embedding) as JSON.

Run as `import hf_models; hf_models.main()` (test/helpers/python.ts puts this
directory on PYTHONPATH, as it does torch_models.py for the benchmarks)."""
import json, math, struct, sys, torch
import torch.nn.functional as F


def main():
    torch.manual_seed(0)
    d = json.load(sys.stdin)
    cfg, kind, out_dir = d['config'], d['config']['model_type'], d['dir']
    ids = torch.tensor(d['ids'])
    B, T = ids.shape
    MIN = torch.finfo(torch.float32).min

    def normal(*shape): return (torch.randn(*shape) * 0.2).requires_grad_()
    def ln(x, W, p, eps): return F.layer_norm(x, (x.shape[-1],), W[p + '.weight'], W[p + '.bias'], eps)
    def heads(x, H): return x.view(B, T, H, -1).transpose(1, 2)
    def merge(x): return x.transpose(1, 2).reshape(B, T, -1)

    W = {}
    if kind == 'gpt2':
        C, L, V, P = cfg['n_embd'], cfg['n_layer'], cfg['vocab_size'], cfg['n_positions']
        W['transformer.wte.weight'] = normal(V, C); W['transformer.wpe.weight'] = normal(P, C)
        for i in range(L):
            p = f'transformer.h.{i}.'
            for n, s in [('ln_1', C), ('ln_2', C)]: W[p + n + '.weight'] = (1 + torch.randn(s) * 0.1).requires_grad_(); W[p + n + '.bias'] = normal(s)
            for n, a, b in [('attn.c_attn', C, 3 * C), ('attn.c_proj', C, C), ('mlp.c_fc', C, 4 * C), ('mlp.c_proj', 4 * C, C)]:
                W[p + n + '.weight'] = normal(a, b); W[p + n + '.bias'] = normal(b)
        W['transformer.ln_f.weight'] = (1 + torch.randn(C) * 0.1).requires_grad_(); W['transformer.ln_f.bias'] = normal(C)
        def forward():
            H, eps = cfg['n_head'], cfg['layer_norm_epsilon']
            x = W['transformer.wte.weight'][ids] + W['transformer.wpe.weight'][torch.arange(T)]
            causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
            for i in range(L):
                p = f'transformer.h.{i}.'
                q, k, v = (ln(x, W, p + 'ln_1', eps) @ W[p + 'attn.c_attn.weight'] + W[p + 'attn.c_attn.bias']).split(C, dim=2)
                q, k, v = heads(q, H), heads(k, H), heads(v, H)
                att = torch.where(causal, (q @ k.transpose(-1, -2)) / math.sqrt(C // H), MIN).softmax(-1)
                x = x + merge(att @ v) @ W[p + 'attn.c_proj.weight'] + W[p + 'attn.c_proj.bias']
                m = ln(x, W, p + 'ln_2', eps)
                x = x + F.gelu(m @ W[p + 'mlp.c_fc.weight'] + W[p + 'mlp.c_fc.bias'], approximate='tanh') @ W[p + 'mlp.c_proj.weight'] + W[p + 'mlp.c_proj.bias']
            return ln(x, W, 'transformer.ln_f', eps) @ W['transformer.wte.weight'].T
    elif kind == 'gpt_neo':
        C, L, V, P, H = cfg['hidden_size'], cfg['num_layers'], cfg['vocab_size'], cfg['max_position_embeddings'], cfg['num_heads']
        layers = [k for kinds, n in cfg['attention_types'] for _ in range(n) for k in kinds]
        W['transformer.wte.weight'] = normal(V, C); W['transformer.wpe.weight'] = normal(P, C)
        for i in range(L):
            p = f'transformer.h.{i}.'
            for n in ['ln_1', 'ln_2']: W[p + n + '.weight'] = (1 + torch.randn(C) * 0.1).requires_grad_(); W[p + n + '.bias'] = normal(C)
            for n in ['q_proj', 'k_proj', 'v_proj']: W[p + 'attn.attention.' + n + '.weight'] = normal(C, C)
            W[p + 'attn.attention.out_proj.weight'] = normal(C, C); W[p + 'attn.attention.out_proj.bias'] = normal(C)
            W[p + 'mlp.c_fc.weight'] = normal(4 * C, C); W[p + 'mlp.c_fc.bias'] = normal(4 * C)
            W[p + 'mlp.c_proj.weight'] = normal(C, 4 * C); W[p + 'mlp.c_proj.bias'] = normal(C)
        W['transformer.ln_f.weight'] = (1 + torch.randn(C) * 0.1).requires_grad_(); W['transformer.ln_f.bias'] = normal(C)
        def forward():
            eps = cfg['layer_norm_epsilon']
            x = W['transformer.wte.weight'][ids] + W['transformer.wpe.weight'][torch.arange(T)]
            bias = torch.tril(torch.ones(T, T, dtype=torch.bool))
            local = torch.bitwise_xor(bias, torch.tril(bias, -cfg['window_size']))
            for i in range(L):
                p = f'transformer.h.{i}.attn.attention.'
                a = ln(x, W, f'transformer.h.{i}.ln_1', eps)
                q, k, v = [heads(F.linear(a, W[p + n + '_proj.weight']), H) for n in 'qkv']
                att = torch.where(local if layers[i] == 'local' else bias, q @ k.transpose(-1, -2), MIN).softmax(-1)  # no 1/sqrt(D)
                x = x + F.linear(merge(att @ v), W[p + 'out_proj.weight'], W[p + 'out_proj.bias'])
                m = ln(x, W, f'transformer.h.{i}.ln_2', eps)
                h = F.gelu(F.linear(m, W[f'transformer.h.{i}.mlp.c_fc.weight'], W[f'transformer.h.{i}.mlp.c_fc.bias']), approximate='tanh')
                x = x + F.linear(h, W[f'transformer.h.{i}.mlp.c_proj.weight'], W[f'transformer.h.{i}.mlp.c_proj.bias'])
            return ln(x, W, 'transformer.ln_f', eps) @ W['transformer.wte.weight'].T
    else:
        C, L, V, P, H, I, pad = cfg['hidden_size'], cfg['num_hidden_layers'], cfg['vocab_size'], cfg['max_position_embeddings'], cfg['num_attention_heads'], cfg['intermediate_size'], cfg['pad_token_id']
        e = 'roberta.embeddings.'
        W[e + 'word_embeddings.weight'] = normal(V, C); W[e + 'position_embeddings.weight'] = normal(P, C); W[e + 'token_type_embeddings.weight'] = normal(1, C)
        W[e + 'LayerNorm.weight'] = (1 + torch.randn(C) * 0.1).requires_grad_(); W[e + 'LayerNorm.bias'] = normal(C)
        for i in range(L):
            p = f'roberta.encoder.layer.{i}.'
            for n in ['query', 'key', 'value']: W[p + 'attention.self.' + n + '.weight'] = normal(C, C); W[p + 'attention.self.' + n + '.bias'] = normal(C)
            W[p + 'attention.output.dense.weight'] = normal(C, C); W[p + 'attention.output.dense.bias'] = normal(C)
            W[p + 'intermediate.dense.weight'] = normal(I, C); W[p + 'intermediate.dense.bias'] = normal(I)
            W[p + 'output.dense.weight'] = normal(C, I); W[p + 'output.dense.bias'] = normal(C)
            for n in ['attention.output.LayerNorm', 'output.LayerNorm']: W[p + n + '.weight'] = (1 + torch.randn(C) * 0.1).requires_grad_(); W[p + n + '.bias'] = normal(C)
        W['lm_head.dense.weight'] = normal(C, C); W['lm_head.dense.bias'] = normal(C)
        W['lm_head.layer_norm.weight'] = (1 + torch.randn(C) * 0.1).requires_grad_(); W['lm_head.layer_norm.bias'] = normal(C)
        W['lm_head.bias'] = normal(V)
        mask = torch.tensor(d['attention_mask'])
        def forward():
            eps = cfg['layer_norm_eps']
            not_pad = ids.ne(pad).int()
            pos = torch.cumsum(not_pad, dim=1).type_as(not_pad) * not_pad + pad
            x = W[e + 'word_embeddings.weight'][ids] + W[e + 'position_embeddings.weight'][pos.long()] + W[e + 'token_type_embeddings.weight'][0]
            x = ln(x, W, e + 'LayerNorm', eps)
            ext = (1.0 - mask[:, None, None, :].float()) * MIN
            for i in range(L):
                p = f'roberta.encoder.layer.{i}.'
                q, k, v = [heads(F.linear(x, W[p + 'attention.self.' + n + '.weight'], W[p + 'attention.self.' + n + '.bias']), H) for n in ['query', 'key', 'value']]
                att = ((q @ k.transpose(-1, -2)) / math.sqrt(C // H) + ext).softmax(-1)
                x = ln(F.linear(merge(att @ v), W[p + 'attention.output.dense.weight'], W[p + 'attention.output.dense.bias']) + x, W, p + 'attention.output.LayerNorm', eps)
                h = F.gelu(F.linear(x, W[p + 'intermediate.dense.weight'], W[p + 'intermediate.dense.bias']))
                x = ln(F.linear(h, W[p + 'output.dense.weight'], W[p + 'output.dense.bias']) + x, W, p + 'output.LayerNorm', eps)
            hidden = x
            h = ln(F.gelu(F.linear(hidden, W['lm_head.dense.weight'], W['lm_head.dense.bias'])), W, 'lm_head.layer_norm', eps)
            return hidden, F.linear(h, W[e + 'word_embeddings.weight'], W['lm_head.bias'])

    def save():
        tensors = {k: v.detach().contiguous() for k, v in W.items()}
        if kind == 'roberta':
            tensors['roberta.embeddings.position_ids'] = torch.arange(P)[None]          # a buffer: ignored on load
            tensors['lm_head.decoder.weight'] = tensors['roberta.embeddings.word_embeddings.weight']  # tied
        if kind == 'gpt2':
            tensors['lm_head.weight'] = tensors['transformer.wte.weight']  # tied copy, as old checkpoints have
        if d['format'] == 'bin':
            torch.save(tensors, out_dir + '/pytorch_model.bin')
        else:
            header, blobs, off = {}, [], 0
            codes = {torch.float32: 'F32', torch.int64: 'I64'}
            for k, t in tensors.items():
                raw = t.numpy().tobytes()
                header[k] = {'dtype': codes[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
                blobs.append(raw); off += len(raw)
            h = json.dumps(header).encode()
            open(out_dir + '/model.safetensors', 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
        json.dump(cfg, open(out_dir + '/config.json', 'w'))
    save()

    out = {}
    if kind == 'roberta':
        hidden, logits = forward()
        labels = torch.tensor(d['labels'])
        loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
        m = mask[:, :, None].float()
        out['embedding'] = ((hidden * m).sum(1) / m.sum(1)).flatten().tolist()
    else:
        logits = forward()
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    loss.backward()
    out['logits'] = logits.flatten().tolist()
    out['loss'] = float(loss)
    out['grads'] = {k: v.grad.flatten().tolist() for k, v in W.items()}
    print(json.dumps(out))
