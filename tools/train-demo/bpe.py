"""Byte-level BPE learned on the caption corpus, written in the CLIP / Hugging Face layout.

Layout (test/fixtures/vectors/clip-tokenizer/README.md): ids 0..255 the byte characters of
`bytes_to_unicode()`, 256..511 the same with `</w>`, then one entry per merge (its parts joined), then
`<|startoftext|>`, `<|endoftext|>`. Normalisation and pre-tokenisation follow CLIPTokenizerFast for the
ASCII captions this corpus holds (whitespace collapsed, lower-cased, letters / single digits / other runs).
"""
from __future__ import annotations

import json
import re
from collections import Counter

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
_PIECE = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d|[a-z]+|[0-9]|[^\sa-z0-9]+")


def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_CHARS = bytes_to_unicode()


def pieces(text: str) -> list[str]:
    text = " ".join(text.split()).lower()
    if not text.isascii():
        raise ValueError(f"the demo tokenizer's Python side handles ASCII captions only: {text!r}")
    return _PIECE.findall(text)


def _symbols(piece: str) -> tuple[str, ...]:
    chars = [BYTE_CHARS[b] for b in piece.encode("utf-8")]
    chars[-1] += "</w>"
    return tuple(chars)


def learn(captions: list[str], max_merges: int = 1500, min_count: int = 2) -> list[tuple[str, str]]:
    """Greedy BPE on word counts; ties go to the lexicographically smallest pair (deterministic)."""
    words = Counter(_symbols(p) for c in captions for p in pieces(c))
    taken = {c for c in BYTE_CHARS.values()} | {c + "</w>" for c in BYTE_CHARS.values()}
    merges: list[tuple[str, str]] = []
    banned: set[tuple[str, str]] = set()
    while len(merges) < max_merges:
        pairs: Counter[tuple[str, str]] = Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                if (a, b) not in banned:
                    pairs[(a, b)] += n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < min_count:
            break
        if best[0] + best[1] in taken:  # a second path to an existing token would duplicate a vocab key
            banned.add(best)
            continue
        taken.add(best[0] + best[1])
        merges.append(best)
        words = Counter({_merge(w, best): n for w, n in words.items()})
    return merges


def _merge(w: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(w):
        if i + 1 < len(w) and (w[i], w[i + 1]) == pair:
            out.append(w[i] + w[i + 1])
            i += 2
        else:
            out.append(w[i])
            i += 1
    return tuple(out)


def vocab_of(merges: list[tuple[str, str]]) -> dict[str, int]:
    chars = list(BYTE_CHARS.values())
    entries = chars + [c + "</w>" for c in chars] + [a + b for a, b in merges] + [BOS, EOS]
    return {tok: i for i, tok in enumerate(entries)}


class Tokenizer:
    def __init__(self, merges: list[tuple[str, str]], max_length: int):
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.vocab = vocab_of(merges)
        self.bos, self.eos = self.vocab[BOS], self.vocab[EOS]
        self.max_length = max_length
        self._cache: dict[str, list[int]] = {}

    def _bpe(self, piece: str) -> list[int]:
        hit = self._cache.get(piece)
        if hit is not None:
            return hit
        w = _symbols(piece)
        while len(w) > 1:
            ranked = [(self.ranks.get(p, 1 << 30), p) for p in zip(w, w[1:])]
            rank, pair = min(ranked)
            if rank == 1 << 30:
                break
            w = _merge(w, pair)
        ids = [self.vocab[s] for s in w]
        self._cache[piece] = ids
        return ids

    def encode(self, text: str) -> tuple[list[int], list[int]]:
        """input_ids and attention_mask of length max_length: [bos, tokens…, eos] padded with eos (pad = eos)."""
        toks = [t for p in pieces(text) for t in self._bpe(p)][: self.max_length - 2]
        ids = [self.bos] + toks + [self.eos]
        mask = [1] * len(ids) + [0] * (self.max_length - len(ids))
        return ids + [self.eos] * (self.max_length - len(ids)), mask

    def save(self, vocab_path: str, merges_path: str) -> None:
        with open(vocab_path, "w") as f:
            json.dump(self.vocab, f, ensure_ascii=False)
        with open(merges_path, "w") as f:
            f.write("#version: 0.2\n")
            for (a, b), _ in sorted(self.ranks.items(), key=lambda kv: kv[1]):
                f.write(f"{a} {b}\n")
