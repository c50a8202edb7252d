"""Tokenizers laid out as each model family ships its tokenizer.json, trained
on a few kilobytes of text by Hugging Face's own `tokenizers` package (the
reference venv; nothing downloaded), and saved with transformers'
PreTrainedTokenizerFast.save_pretrained (tokenizer.json +
tokenizer_config.json), as the Hub's directories hold them.

Kinds:
  llama3      byte-level BPE, Llama-3's split regex, <|begin_of_text|> added
              by the post-processor, <|end_of_text|> as EOS;
  qwen2       byte-level BPE, Qwen2's split regex (single digits), NFC, no
              BOS, <|endoftext|> as EOS;
  sentencepiece  Llama-2 / Mistral / Phi-3: BPE over "▁"-joined text (the
              normalizer prepends "▁" and replaces spaces), byte fallback
              tokens <0x00>..<0xFF> at ids 3..258, <unk> <s> </s>;
  wordpiece   BERT: lower-casing BertNormalizer, BertPreTokenizer, ##
              continuations, [CLS] ... [SEP].
"""
import json

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _byte_level(texts, vocab_size, pattern, specials, nfc):
    tok = Tokenizer(models.BPE())
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def _sentencepiece(texts, vocab_size):
    """Llama-2's layout: specials 0-2, the 256 byte tokens 3-258, then the merges' tokens."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - 256, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=60, show_progress=False)
    tok.train_from_iterator(texts, trainer)
    spec = json.loads(tok.to_str())
    trained = spec["model"]["vocab"]
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = 3 + b
    for token, i in sorted(trained.items(), key=lambda kv: kv[1]):
        if token not in vocab:
            vocab[token] = len(vocab)
    spec["model"]["vocab"] = vocab
    spec["model"]["byte_fallback"] = True
    spec["model"]["fuse_unk"] = True
    for added in spec["added_tokens"]:
        added["id"] = vocab[added["content"]]
    spec["decoder"] = {
        "type": "Sequence",
        "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ],
    }
    spec["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
    }
    return Tokenizer.from_str(json.dumps(spec))


def _wordpiece(texts, vocab_size):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, limit_alphabet=60, show_progress=False))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


def build(kind, texts, vocab_size):
    """A transformers fast tokenizer of `kind` (see the module's docstring)."""
    from transformers import PreTrainedTokenizerFast

    if kind == "llama3":
        tok = _byte_level(texts, vocab_size, LLAMA3_PATTERN, ["<|begin_of_text|>", "<|end_of_text|>"], nfc=False)
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1", special_tokens=[("<|begin_of_text|>", bos)]),
        ])
        return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>", model_max_length=131072)
    if kind == "qwen2":
        tok = _byte_level(texts, vocab_size, QWEN2_PATTERN, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], nfc=True)
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=None, eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=32768)
    if kind == "sentencepiece":
        tok = _sentencepiece(texts, vocab_size)
        return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    if kind == "wordpiece":
        tok = _wordpiece(texts, vocab_size)
        return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)
    raise ValueError(f"unknown tokenizer kind {kind}")


def main():
    """stdin: {kind, texts, vocab_size, dir, probes}; saves the tokenizer into dir and prints
    each probe's ids (without and with special tokens) and its decoding."""
    import sys

    spec = json.load(sys.stdin)
    tok = build(spec["kind"], spec["texts"], spec["vocab_size"])
    tok.save_pretrained(spec["dir"])
    out = []
    for text in spec["probes"]:
        plain = tok.encode(text, add_special_tokens=False)
        out.append({"plain": plain, "special": tok.encode(text), "decoded": tok.decode(plain)})
    json.dump({"probes": out, "bos": tok.bos_token_id, "eos": tok.eos_token_id, "vocab": len(tok)}, sys.stdout)
