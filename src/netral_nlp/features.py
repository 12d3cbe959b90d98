"""Turn items into the baseline's feature matrix: hashed TF-IDF of word n-grams (stems),
character n-grams (normalised surface forms, within word boundaries) and the author
context, plus the signal features.

Hashing needs no vocabulary and keeps memory flat; only the inverse document frequencies of
features seen in at least ``min_df`` training documents are kept. The hashed columns of a
word and of its character n-grams are cached per word, because a feed repeats its words:
that makes featurising several times faster than re-hashing every n-gram of every text.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import mmh3
import numpy as np
import scipy.sparse as sp

from .signals import FEATURE_NAMES, SENTENCE_FEATURES, Analysis, analyse
from .text import Token, tokenize

# Block order of the matrix columns: word n-grams, char n-grams, author n-grams, the text's
# words again when the author context names an ASN role (so "an ASN bio" x "coblos" can get
# its own weight: a linear model cannot multiply two blocks), then the signals.
BLOCKS = ("word", "char", "author", "asn_author_word")
_AUTHOR_ASN = FEATURE_NAMES.index("author_asn")
_CACHE = 500_000


@dataclass
class FeatureConfig:
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    word_bits: int = 20  # 2**20 hashed word n-gram slots
    char_bits: int = 20
    author_bits: int = 16
    asn_author_word_bits: int = 18
    min_df: int = 2
    signal_weight: float = 1.0  # scale of the standardised signal block against TF-IDF rows


@dataclass
class Doc:
    """One item prepared for features: tokens keep spans into ``text`` for evidence."""

    text: str
    tokens: list[Token]
    analysis: Analysis
    author_tokens: list[Token] = field(default_factory=list)
    author_context: str | None = None


def make_doc(text: str, author_context: str | None = None) -> Doc:
    return Doc(
        text=text,
        tokens=tokenize(text),
        analysis=analyse(text, author_context or None),
        author_tokens=tokenize(author_context) if author_context else [],
        author_context=author_context or None,
    )


@lru_cache(maxsize=_CACHE)
def feature_index(feature: str, bits: int) -> int:
    """Hashed column of a feature string: |murmurhash3_32(utf-8, seed 0)| mod 2**bits, the
    same columns as scikit-learn's HashingVectorizer (mmh3 imports in 1 ms, sklearn in 1 s)."""
    return abs(mmh3.hash(feature, 0, signed=True)) % (1 << bits)


@lru_cache(maxsize=_CACHE)
def _char_columns(word: str, lo: int, hi: int, bits: int) -> tuple[int, ...]:
    padded = f" {word} "
    return tuple(
        feature_index(padded[i : i + n], bits)
        for n in range(lo, hi + 1)
        for i in range(len(padded) - n + 1)
    )


def word_ngram_columns(stems: Sequence[str], lo: int, hi: int, bits: int) -> list[int]:
    """Columns of the word n-grams (n in lo..hi) of a stem sequence, joined with spaces."""
    cols: list[int] = []
    for n in range(lo, hi + 1):
        for i in range(len(stems) - n + 1):
            cols.append(feature_index(" ".join(stems[i : i + n]) if n > 1 else stems[i], bits))
    return cols


def _csr(rows: Iterable[list[int] | tuple[int, ...]], n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Count matrix from per-row column lists, with sublinear tf (1 + log count)."""
    indptr = [0]
    indices: list[int] = []
    for cols in rows:
        indices.extend(cols)
        indptr.append(len(indices))
    x = sp.csr_matrix(
        (
            np.ones(len(indices), dtype=np.float32),
            np.asarray(indices, dtype=np.int32),
            np.asarray(indptr),
        ),
        shape=(n_rows, n_cols),
    )
    x.sum_duplicates()
    np.log1p(x.data, out=x.data)
    return x


def _l2_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    """Scale each row to unit L2 norm in place (empty rows stay empty)."""
    counts = np.diff(x.indptr)
    rows = np.repeat(np.arange(x.shape[0]), counts)
    norms = np.sqrt(
        np.bincount(rows, weights=np.square(x.data, dtype=np.float64), minlength=x.shape[0])
    )
    norms[norms == 0] = 1.0
    x.data /= np.repeat(norms, counts).astype(x.data.dtype)
    return x


class Featurizer:
    """Hashed n-gram counts with fitted IDF weights, plus standardised signal features."""

    def __init__(
        self,
        config: FeatureConfig,
        idf: dict[str, np.ndarray] | None = None,
        signal_mean: np.ndarray | None = None,
        signal_std: np.ndarray | None = None,
    ) -> None:
        self.config = config
        self.idf = idf or {}
        self.signal_mean = signal_mean
        self.signal_std = signal_std

    @property
    def sizes(self) -> dict[str, int]:
        c = self.config
        return {
            "word": 1 << c.word_bits,
            "char": 1 << c.char_bits,
            "author": 1 << c.author_bits,
            "asn_author_word": 1 << c.asn_author_word_bits,
        }

    @property
    def n_features(self) -> int:
        return sum(self.sizes.values()) + len(FEATURE_NAMES)

    def _counts(self, docs: Sequence[Doc]) -> dict[str, sp.csr_matrix]:
        c, n = self.config, len(docs)
        word_lo, word_hi = c.word_ngrams
        char_lo, char_hi = c.char_ngrams

        def chars(doc: Doc) -> list[int]:
            cols: list[int] = []
            for tok in doc.tokens:
                cols.extend(_char_columns(tok.norm, char_lo, char_hi, c.char_bits))
            return cols

        sizes = self.sizes
        return {
            "word": _csr(
                (
                    word_ngram_columns([t.stem for t in d.tokens], word_lo, word_hi, c.word_bits)
                    for d in docs
                ),
                n,
                sizes["word"],
            ),
            "char": _csr((chars(d) for d in docs), n, sizes["char"]),
            "author": _csr(
                (
                    word_ngram_columns([t.stem for t in d.author_tokens], 1, 2, c.author_bits)
                    for d in docs
                ),
                n,
                sizes["author"],
            ),
            "asn_author_word": _csr(
                (
                    word_ngram_columns([t.stem for t in d.tokens], 1, 1, c.asn_author_word_bits)
                    if d.analysis.features[_AUTHOR_ASN] > 0
                    else []
                    for d in docs
                ),
                n,
                sizes["asn_author_word"],
            ),
        }

    def fit(self, docs: Sequence[Doc]) -> Featurizer:
        counts = self._counts(docs)
        n = len(docs)
        for name, x in counts.items():
            df = np.bincount(x.indices, minlength=x.shape[1])
            idf = np.log((1 + n) / (1 + df)) + 1.0
            idf[df < self.config.min_df] = 0.0  # unseen or too rare: dropped
            self.idf[name] = idf.astype(np.float32)
        sig = np.vstack([d.analysis.features for d in docs])
        self.signal_mean = sig.mean(axis=0)
        self.signal_std = sig.std(axis=0) + 1e-6
        return self

    def transform(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        """(len(docs), n_features) float32 CSR: each n-gram block L2-normalised."""
        counts = self._counts(docs)
        blocks = []
        for name in BLOCKS:
            x = counts[name]
            x.data *= self.idf[name][x.indices]
            x.eliminate_zeros()
            blocks.append(_l2_rows(x))
        sig = (
            np.vstack([d.analysis.features for d in docs])
            if docs
            else np.zeros((0, len(FEATURE_NAMES)))
        )
        sig = (sig - self.signal_mean) / self.signal_std * self.config.signal_weight
        blocks.append(sp.csr_matrix(sig.astype(np.float32)))
        return sp.hstack(blocks, format="csr", dtype=np.float32)


@dataclass
class SentenceConfig:
    """Features of one sentence for the sentence scorer: hashed word n-grams of its stems
    (binary, IDF-weighted, L2-normalised) and its structural signals (0/1, scaled)."""

    ngrams: tuple[int, int] = (1, 2)
    bits: int = 18
    min_df: int = 2
    structure_weight: float = 0.5
    actor_cross: bool = True  # also each n-gram crossed with the sentence's actor kind


# Who acts in a sentence, for the crossed n-grams: an ASN (named there, carried over from
# the previous sentence, or the author), else only a non-ASN or former ASN person, else none.
_ASN_CONTEXT = tuple(
    SENTENCE_FEATURES.index(f)
    for f in ("actor_asn", "previous_asn_act", "author_asn_act", "author_asn_first_person_act")
)
_NON_ASN_CONTEXT = tuple(SENTENCE_FEATURES.index(f) for f in ("actor_non_asn", "actor_former"))
_CROSS_MULTIPLIER = 0x9E3779B1  # odd: a bijection of the hashed columns for each kind


def actor_context(sentence_features: np.ndarray) -> int:
    """1 when an ASN acts in the sentence, 2 when only a non-ASN person does, else 0."""
    if sentence_features[list(_ASN_CONTEXT)].any():
        return 1
    if sentence_features[list(_NON_ASN_CONTEXT)].any():
        return 2
    return 0


def crossed_columns(cols: list[int], context: int, bits: int) -> list[int]:
    """The n-gram columns again, moved to the actor kind's own hashed slots: the same words
    can then weigh one way when an ASN says or does them and another when a kepala desa or a
    legislator does."""
    if not context:
        return []
    mask = (1 << bits) - 1
    shift = context * 0x5BD1E995
    return [(c * _CROSS_MULTIPLIER + shift) & mask for c in cols]


def sentence_token_ranges(doc: Doc) -> list[tuple[int, int]]:
    """For each sentence of ``doc.analysis``, the [first, last) indices of its tokens."""
    starts = [t.start for t in doc.tokens]
    return [(bisect_left(starts, s), bisect_left(starts, e)) for s, e in doc.analysis.sentences]


class SentenceFeaturizer:
    """Rows of every sentence of a batch of documents (document order, then sentence order)."""

    def __init__(self, config: SentenceConfig, idf: np.ndarray | None = None) -> None:
        self.config = config
        self.idf = idf

    @property
    def n_features(self) -> int:
        return (1 << self.config.bits) + len(SENTENCE_FEATURES)

    def _ngrams(self, docs: Sequence[Doc]) -> tuple[sp.csr_matrix, np.ndarray]:
        c = self.config
        rows: list[list[int]] = []
        offsets = [0]
        for doc in docs:
            stems = [t.stem for t in doc.tokens]
            sf = doc.analysis.sentence_features
            for j, (a, b) in enumerate(sentence_token_ranges(doc)):
                cols = word_ngram_columns(stems[a:b], c.ngrams[0], c.ngrams[1], c.bits)
                if c.actor_cross:
                    cols += crossed_columns(cols, actor_context(sf[j]), c.bits)
                rows.append(cols)
            offsets.append(len(rows))
        x = _csr(rows, len(rows), 1 << c.bits)
        x.data[:] = 1.0  # presence: a sentence repeating a word says it once
        return x, np.asarray(offsets)

    def fit(self, docs: Sequence[Doc]) -> SentenceFeaturizer:
        x, _ = self._ngrams(docs)
        n = x.shape[0]
        df = np.bincount(x.indices, minlength=x.shape[1])
        idf = np.log((1 + n) / (1 + df)) + 1.0
        idf[df < self.config.min_df] = 0.0
        self.idf = idf.astype(np.float32)
        return self

    def blocks(self, docs: Sequence[Doc]) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """The n-gram rows (CSR), the structural rows (dense, scaled) and the
        (len(docs) + 1,) offsets of each document's rows."""
        x, offsets = self._ngrams(docs)
        x.data *= self.idf[x.indices]
        x.eliminate_zeros()
        struct = (
            np.vstack([d.analysis.sentence_features for d in docs])
            if docs
            else np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float32)
        )
        return _l2_rows(x), struct * self.config.structure_weight, offsets

    def transform(self, docs: Sequence[Doc]) -> tuple[sp.csr_matrix, np.ndarray]:
        """(n_sentences, n_features) CSR and the (len(docs) + 1,) offsets of each
        document's rows."""
        x, struct, offsets = self.blocks(docs)
        s = sp.csr_matrix(struct, dtype=np.float32)
        return sp.hstack([x, s], format="csr", dtype=np.float32), offsets

    def logits(
        self, docs: Sequence[Doc], coef: np.ndarray, intercept: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Linear scores of every sentence (``transform(docs) @ coef + intercept`` without
        building the joined matrix: a few hundred microseconds less per call) and offsets."""
        x, struct, offsets = self.blocks(docs)
        split = 1 << self.config.bits
        z = np.asarray(x @ coef[:split]).ravel() + struct @ coef[split:] + intercept
        return z, offsets
