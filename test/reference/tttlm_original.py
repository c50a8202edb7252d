"""A transcription of the original TTT-NN evaluation (socialfoundations/tttlm)
for tttnn's parity test: the TTT loop and dynamic evaluation
(code/eval_tttlm.py), the in-context baseline (code/baseline_context.py with
code/lm_eval/base.py) and the interpolation baseline
(code/baseline_interpolation.py with code/lm_eval_interpolation/base.py),
kept line for line where they compute something, with Hugging Face's GPT-2
written out in plain PyTorch (no transformers package here) and the FAISS
index read with python3-faiss.

Input (JSON on stdin): the model directory (config.json, model.safetensors,
tokenizer.json), the index file, the training texts (line i = document id i),
the test documents by task, query embeddings by query text, an encoding table
(text -> token ids; the tokenizer itself is tested elsewhere) and the
settings. Output (JSON): per method, per document id, the log-likelihood
curve and the neighbour count.
"""
import json, math, random, struct, sys

import faiss
import numpy as np
import torch
import torch.nn.functional as F
from collections import Counter

from lm_eval_windows import get_rolling_token_windows, make_disjoint_window  # lm_eval/utils.py:73-117

D = json.load(sys.stdin)
CFG = json.load(open(D['model_dir'] + '/config.json'))
VOCAB = json.load(open(D['model_dir'] + '/tokenizer.json'))['model']['vocab']
S = D['settings']


# ---- the model: GPT-2 (Hugging Face names, Conv1D layout, tied lm_head) ----
def load_safetensors(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(e['shape']).clone()
    return out


W = {k: v.requires_grad_() for k, v in load_safetensors(D['model_dir'] + '/model.safetensors').items() if k != 'lm_head.weight'}
ORIGINAL = {k: v.detach().clone() for k, v in W.items()}
N_CTX = CFG['n_positions']


def gpt2_logits(ids):
    """GPT2LMHeadModel(ids).logits for ids [1, T] (dropout 0)."""
    C, H, L, eps = CFG['n_embd'], CFG['n_head'], CFG['n_layer'], CFG.get('layer_norm_epsilon', 1e-5)
    T = ids.shape[1]
    ln = lambda x, p: F.layer_norm(x, (C,), W[p + '.weight'], W[p + '.bias'], eps)
    heads = lambda x: x.view(1, T, H, C // H).transpose(1, 2)
    x = W['transformer.wte.weight'][ids] + W['transformer.wpe.weight'][torch.arange(T)]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = 'transformer.h.%d.' % i
        q, k, v = (ln(x, p + 'ln_1') @ W[p + 'attn.c_attn.weight'] + W[p + 'attn.c_attn.bias']).split(C, dim=2)
        att = torch.where(causal, (heads(q) @ heads(k).transpose(-1, -2)) / math.sqrt(C // H), torch.finfo(torch.float32).min).softmax(-1)
        x = x + (att @ heads(v)).transpose(1, 2).reshape(1, T, C) @ W[p + 'attn.c_proj.weight'] + W[p + 'attn.c_proj.bias']
        m = F.gelu(ln(x, p + 'ln_2') @ W[p + 'mlp.c_fc.weight'] + W[p + 'mlp.c_fc.bias'], approximate='tanh')
        x = x + m @ W[p + 'mlp.c_proj.weight'] + W[p + 'mlp.c_proj.bias']
    return ln(x, 'transformer.ln_f') @ W['transformer.wte.weight'].T


def lm_loss(ids):
    """GPT2LMHeadModel(ids, labels=ids).loss: shifted, mean over targets (NaN over none)."""
    logits = gpt2_logits(ids)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def reset_model():  # eval_tttlm.py:114-116 (load_state_dict of the original state)
    with torch.no_grad():
        for k in W:
            W[k].copy_(ORIGINAL[k])


# ---- the tokenizer: encoding from the table, GPT-2's byte-level decoding ----
def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_DECODER = {v: k for k, v in bytes_to_unicode().items()}
ID_TO_TOKEN = {i: t for t, i in VOCAB.items()}


class Tokenizer:
    vocab_size = len(VOCAB)
    eos_token_id = VOCAB['<|endoftext|>']
    mask_token_id = None

    def encode(self, text, add_special_tokens=False):
        return list(D['encodings'][text])

    def decode(self, tokens):
        return bytearray(BYTE_DECODER[c] for t in tokens for c in ID_TO_TOKEN[t]).decode('utf-8', errors='replace')


TOK = Tokenizer()


# ---- lm_eval: rolling windows and the log-likelihood of token windows ----
def rolling_windows(string):
    return list(map(make_disjoint_window, get_rolling_token_windows(TOK.encode(string), TOK.eos_token_id, N_CTX, 1)))


def window_loglikelihood(context_enc, continuation_enc):  # lm_eval/base.py:266-337, batch size 1
    inp = torch.tensor((context_enc + continuation_enc)[-(N_CTX + 1):][:-1], dtype=torch.long)
    inplen = inp.shape[0]
    with torch.no_grad():
        logits = F.log_softmax(gpt2_logits(inp[None])[:, :, :50257], dim=-1)[0]
    contlen = len(continuation_enc)
    logits = logits[inplen - contlen: inplen].unsqueeze(0)
    cont = torch.tensor(continuation_enc, dtype=torch.long).unsqueeze(0)
    return float(torch.gather(logits, 2, cont.unsqueeze(-1)).squeeze(-1).sum())


def loglikelihood_rolling(string, texts=None):  # lm_eval/base.py:187-234
    windows = rolling_windows(string)
    if texts is not None:
        if len(windows) > 1:
            pass  # 'MULTIPLE!!!'
        elif len(texts) == 0:
            pass  # 'EMPTY!!!'
        else:
            texts = [TOK.encode(text) for text in texts]
            texts = [item for sublist in texts for item in sublist]
            context_len = N_CTX + 1 - len(windows[0][1])
            context_len = max(context_len, len(texts))
            windows = [(texts[:context_len], windows[0][1])]
    return sum(window_loglikelihood(c, t) for c, t in windows)


def softmax(distances):  # lm_eval_interpolation/base.py:21-24
    vector = - np.asarray(distances)
    e = np.exp(vector)
    return e / e.sum()


def create_histogram(int_list):  # lm_eval_interpolation/base.py:178-186
    histogram = [0] * TOK.vocab_size
    counter = Counter(int_list)
    for i in range(TOK.vocab_size):
        histogram[i] = counter[i] / len(int_list)
    return np.asarray(histogram)


def loglikelihood_rolling_interpolation(string, texts_distances):  # lm_eval_interpolation/base.py:202-239, :325-363
    windows = rolling_windows(string)
    texts, distances = texts_distances
    texts = [TOK.encode(text) for text in texts]
    hists = [create_histogram(text) for text in texts]
    dists = softmax(distances)
    knn_pred = torch.tensor(sum([dist * hist for (dist, hist) in zip(dists, hists)]))
    totals = np.zeros(20)
    for context_enc, continuation_enc in windows:
        inp = torch.tensor((context_enc + continuation_enc)[-(N_CTX + 1):][:-1], dtype=torch.long)
        inplen = inp.shape[0]
        with torch.no_grad():
            original_logits = F.softmax(gpt2_logits(inp[None])[:, :, :50257], dim=-1)[0]
        for a, alpha in enumerate(np.arange(0, 0.2, 0.01)):
            logits = (alpha * knn_pred + (1 - alpha) * original_logits).log()
            contlen = len(continuation_enc)
            logits = logits[inplen - contlen: inplen].unsqueeze(0)
            cont = torch.tensor(continuation_enc, dtype=torch.long).unsqueeze(0)
            totals[a] += float(torch.gather(logits, 2, cont.unsqueeze(-1)).squeeze(-1).sum())
    return totals.tolist()


# ---- retrieval: FAISS search, vectors reconstructed, plain L2 filter ----
INDEX = faiss.read_index(D['index'])


def string_query(query_text, k):  # pile_client.string_query: vectors and texts of the k nearest
    q = np.asarray([D['embeddings'][query_text]], dtype=np.float32)
    _, I = INDEX.search(q, k)
    ids = [int(i) for i in I[0] if i >= 0]
    vectors = np.stack([INDEX.reconstruct(i) for i in ids])
    return q, vectors, [D['train_texts'][i] for i in ids]


def filtered(query_text, k, threshold):  # eval_tttlm.py:180-186, baseline_context.py:83-89
    q, vectors, texts = string_query(query_text, k)
    near = np.linalg.norm(vectors - q, axis=1) < threshold
    return [text for text, n in zip(texts, near) if n]


# ---- the TTT loop (eval_tttlm.py) ----
def split_text(text, max_prefix_length=1024):  # eval_tttlm.py:168-178
    tokens = TOK.encode(text, add_special_tokens=False)
    split = max_prefix_length if len(tokens) >= 2 * max_prefix_length else len(tokens) // 2
    return TOK.decode(tokens[:split]), TOK.decode(tokens[split:])


def train_single(optimizer, text):  # eval_tttlm.py:144-166, 216-252
    input_ids = torch.tensor([TOK.encode(text)], dtype=torch.long)
    seq_len = input_ids.size(1)
    pairs = []
    for begin_loc in range(0, seq_len, S['stride']):
        end_loc = min(begin_loc + S['max_length'], seq_len)
        pairs.append(input_ids[:, begin_loc:end_loc])
    for inputs in pairs:
        for p in W.values():  # model.zero_grad() (torch 1.13: zeros)
            if p.grad is not None:
                p.grad.zero_()
        loss = lm_loss(inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(W.values()), 1.0)
        optimizer.step()


def select(docs):  # eval_tttlm.py:374-384
    docs = list(docs)
    rnd = random.Random()
    rnd.seed(1216)
    rnd.shuffle(docs)
    if S['val_portion'] < 1:
        docs = docs[:int(S['val_portion'] * len(docs))]
    return docs


def ttt(dynamic):
    k = S['dynamic_neighbors'] if dynamic else S['ttt_neighbors']
    out = {}
    for task, docs in sorted(D['tasks'].items()):
        optimizer = torch.optim.AdamW(list(W.values()), lr=S['learning_rate'], eps=1e-8)  # one per task (:82, :466)
        for doc_id, doc in select(docs):
            if dynamic:  # --split_text --dynamic_eval
                query_text, eval_doc = split_text(doc)
                texts = [query_text] * k
            else:
                query_text, eval_doc = doc, doc
                texts = filtered(query_text, k, S['ttt_threshold'])
            stats = [loglikelihood_rolling(eval_doc)]
            for text in texts:
                train_single(optimizer, text)
                stats.append(loglikelihood_rolling(eval_doc))
            reset_model()
            out[doc_id] = {'curve': stats, 'neighbors': 0 if dynamic else len(texts)}
    return out


def context():
    out = {}
    for task, docs in sorted(D['tasks'].items()):
        for doc_id, doc in select(docs):
            texts = filtered(doc, S['context_neighbors'], S['context_threshold'])
            out[doc_id] = {'curve': [loglikelihood_rolling(doc), loglikelihood_rolling(doc, texts)], 'neighbors': len(texts)}
    return out


def interpolation():
    out = {}
    for task, docs in sorted(D['tasks'].items()):
        for doc_id, doc in select(docs):
            q, vectors, texts = string_query(doc, S['interpolation_neighbors'])
            distances = np.linalg.norm(vectors - q, axis=1)  # baseline_interpolation.py:88-95: no threshold
            out[doc_id] = {'curve': loglikelihood_rolling_interpolation(doc, (texts, distances)), 'neighbors': len(texts)}
    return out


print(json.dumps({'ttt': ttt(False), 'dynamic': ttt(True), 'context': context(), 'interpolation': interpolation()}))
