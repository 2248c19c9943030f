"""Qwen2 (and LLaMA-3-style, for LLaDA) byte-level BPE for the shapes world's texts, in Python (training needs ids without a
tokenizer library; the C++ engine and the JavaScript reference are checked against it in
tests/train). The pre-tokenizer is Qwen2's regex with \\p{L} and \\p{N} narrowed to ASCII, which is
exact for ASCII text: every text of the world is ASCII, and encode() refuses anything else.
"""
import json
import os
import re

_ASCII_QWEN2 = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+")


# LLaMA 3's (LLaDA's) regex differs only in grouping digits by up to three.
_ASCII_LLAMA3 = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]{1,3}| ?[^\sA-Za-z0-9]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def bytes_to_unicode():
    """GPT-2's reversible map from bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHARS = bytes_to_unicode()


def pretokenize(text, regex=_ASCII_QWEN2):
    if not text.isascii():
        raise ValueError(f"not ASCII: {text!r}")
    return [''.join(BYTE_CHARS[b] for b in piece.encode()) for piece in regex.findall(text)]


def bpe_word(word, ranks, used=None):
    """Merge the characters of one pre-token by rank; records applied merges in `used`."""
    parts = list(word)
    while len(parts) > 1:
        best, at = None, -1
        for i in range(len(parts) - 1):
            r = ranks.get((parts[i], parts[i + 1]))
            if r is not None and (best is None or r < best):
                best, at = r, i
        if best is None:
            break
        pair = (parts[at], parts[at + 1])
        if used is not None:
            used.add(pair)
        merged, i = [], 0
        while i < len(parts):  # merge every occurrence, left to right, like the reference
            if i < len(parts) - 1 and (parts[i], parts[i + 1]) == pair:
                merged.append(parts[i] + parts[i + 1])
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
    return parts


class Tokenizer:
    """Encoder over a vocab.json + merges.txt + tokenizer_config.json folder (Qwen2), or a
    tokenizer.json one (LLaDA's pre-tokenizer; tools/llada/make_llada_tokenizer.py writes them);
    special tokens matched verbatim first, as the engine does."""

    def __init__(self, folder):
        if os.path.exists(os.path.join(folder, "tokenizer.json")):
            with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
                tj = json.load(f)
            self.vocab = tj["model"]["vocab"]
            lines = tj["model"]["merges"]
            self.special = {t["content"]: int(t["id"]) for t in tj["added_tokens"]}
            self.regex = _ASCII_LLAMA3
        else:
            with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
                self.vocab = json.load(f)
            with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
                lines = [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#version")]
            with open(os.path.join(folder, "tokenizer_config.json"), encoding="utf-8") as f:
                cfg = json.load(f)
            self.special = {v["content"]: int(k) for k, v in cfg["added_tokens_decoder"].items()}
            self.regex = _ASCII_QWEN2
        self.ranks = {tuple(ln.split(" ")): i for i, ln in enumerate(lines)}
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.id_to_token.update({i: t for t, i in self.special.items()})
        self._split = re.compile("(" + "|".join(re.escape(s) for s in sorted(self.special, key=len,
                                                                              reverse=True)) + ")")
        self._cache = {}

    def encode(self, text):
        ids = []
        for seg in self._split.split(text):
            if not seg:
                continue
            if seg in self.special:
                ids.append(self.special[seg])
                continue
            for word in pretokenize(seg, self.regex):
                if word not in self._cache:
                    self._cache[word] = [self.vocab[p] for p in bpe_word(word, self.ranks)]
                ids += self._cache[word]
        return ids

    def decode(self, ids):
        inv = {c: b for b, c in BYTE_CHARS.items()}
        out = bytearray()
        for i in ids:
            t = self.id_to_token[int(i)]
            if t in self.special:
                out += t.encode()
            else:
                out += bytes(inv[c] for c in t)
        return out.decode("utf-8", errors="replace")
