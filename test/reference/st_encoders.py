"""Tiny random sentence-transformers directories written by
sentence-transformers' own SentenceTransformer.save (a BERT Transformer
module with a WordPiece tokenizer from hf_tokenizers.py, 1_Pooling and, when
asked, 2_Normalize), and what SentenceTransformer.encode makes of texts: the
reference of test/index/sentence-transformers.test.ts.

stdin: {train_texts: [str] (the tokenizer's), vocab_size, texts: [str], cases: [{
          dir, seed, config: {BertConfig keys}, pooling: "mean" | "cls" | "max" | [modes],
          normalize: bool, max_seq_length, do_lower_case,
          legacy: bool (rewrite the files as sentence-transformers 2-5 wrote them:
          max_seq_length and do_lower_case in sentence_bert_config.json,
          pooling_mode_* booleans, sentence_transformers.models.* types)}]}
stdout: [{embeddings: [[float]], tokens: [[ids]] (what the Transformer module fed BERT)}] per case
"""
import json
import os
import sys
import tempfile

import torch


LEGACY_POOLING_KEYS = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens", "max": "pooling_mode_max_tokens",
                       "mean_sqrt_len_tokens": "pooling_mode_mean_sqrt_len_tokens", "weightedmean": "pooling_mode_weightedmean_tokens",
                       "lasttoken": "pooling_mode_lasttoken"}


def _rewrite(path, change):
    with open(path) as f:
        value = json.load(f)
    value = change(value)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)


def to_legacy_layout(d, case, hidden_size):
    """The files as sentence-transformers 2-5 wrote them (most directories on the Hub)."""
    def pooling(config):
        modes = config.pop("pooling_mode")
        modes = [modes] if isinstance(modes, str) else modes
        out = {"word_embedding_dimension": config.pop("embedding_dimension", hidden_size)}
        out.update({key: mode in modes for mode, key in LEGACY_POOLING_KEYS.items()})
        return out
    _rewrite(os.path.join(d, "1_Pooling", "config.json"), pooling)
    with open(os.path.join(d, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": case["max_seq_length"], "do_lower_case": case.get("do_lower_case", False)}, f)
    # the tokenizer's own limit is the model's, as Hub BERT directories ship it; sentence_bert_config.json's wins
    _rewrite(os.path.join(d, "tokenizer_config.json"), lambda c: {**c, "model_max_length": 512})
    names = {"Transformer": "sentence_transformers.models.Transformer", "Pooling": "sentence_transformers.models.Pooling",
             "Normalize": "sentence_transformers.models.Normalize"}
    _rewrite(os.path.join(d, "modules.json"), lambda ms: [{**m, "type": names[m["type"].split(".")[-1]]} for m in ms])


def write_case(tok, case):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import BertConfig, BertModel

    torch.manual_seed(case.get("seed", 0))
    config = BertConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, **case["config"])
    bert = BertModel(config, add_pooling_layer=False)
    # Weights far from the initializer's, norms around one: every parameter shows.
    with torch.no_grad():
        for name, p in bert.named_parameters():
            p.copy_(1 + 0.2 * torch.randn_like(p) if "LayerNorm.weight" in name else 0.2 * torch.randn_like(p))
    with tempfile.TemporaryDirectory() as base:
        bert.save_pretrained(base)
        tok.save_pretrained(base)
        transformer = Transformer(base, max_seq_length=case["max_seq_length"], do_lower_case=case.get("do_lower_case", False))
        modules = [transformer, Pooling(config.hidden_size, pooling_mode=case["pooling"])]
        if case["normalize"]:
            modules.append(Normalize())
        SentenceTransformer(modules=modules, device="cpu").save(case["dir"])
    if case.get("legacy"):
        to_legacy_layout(case["dir"], case, config.hidden_size)


def main():
    import hf_tokenizers
    from sentence_transformers import SentenceTransformer

    spec = json.load(sys.stdin)
    tok = hf_tokenizers.build("wordpiece", spec["train_texts"], spec["vocab_size"])
    out = []
    for case in spec["cases"]:
        write_case(tok, case)
        # The directory as a user downloads it, read back by sentence-transformers.
        model = SentenceTransformer(case["dir"], device="cpu")
        texts = spec["texts"]
        embeddings = model.encode(texts, convert_to_tensor=True, batch_size=len(texts))
        features = model.preprocess(texts)
        tokens = [ids[mask.bool()].tolist() for ids, mask in zip(features["input_ids"], features["attention_mask"])]
        out.append({"embeddings": embeddings.double().tolist(), "tokens": tokens})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
