"""Turn items into the baseline's feature matrix: hashed TF-IDF of word n-grams (stems),
character n-grams (normalised surface forms, within word boundaries) and the author
context, plus the signal features.

Hashing needs no vocabulary and keeps memory flat; only the inverse document frequencies of
features seen in at least ``min_df`` training documents are kept. A feed repeats its words,
so the hash of each n-gram string and the character n-gram counts of each word are cached;
a document hashes its word n-grams once for the document block, its sentence rows and its
evidence, and a batch lists each distinct word's character n-grams once (a product of
(documents x words) and (words x n-grams) counts).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise, repeat

import mmh3
import numpy as np
import scipy.sparse as sp

from .signals import FEATURE_NAMES, SENTENCE_FEATURES, Analysis, analyse, focus
from .text import TokenColumns, token_columns

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
    """One item prepared for features: its tokens as columns (spans into ``text`` for
    evidence), its signals, and its author context's stems. ``runs``, when set, are the
    [first, last) token ranges that the document block's word n-grams stay within (see
    :func:`focus_doc`); None: the whole text is one run."""

    text: str
    columns: TokenColumns
    analysis: Analysis
    author_stems: Sequence[str] = ()
    author_context: str | None = None
    runs: Sequence[tuple[int, int]] | None = None
    _hashes: dict[int, list[int]] = field(default_factory=dict, repr=False, compare=False)

    def ngram_hashes(self, n: int) -> list[int]:
        """Hashes of the stem n-grams of the text (see :func:`hashed`), one per start
        token; computed once, read by the document and sentence blocks and the evidence."""
        found = self._hashes.get(n)
        if found is None:
            found = self._hashes[n] = ngram_hashes(self.columns.stems, n)
        return found


def make_doc(text: str, author_context: str | None = None) -> Doc:
    return Doc(
        text=text,
        columns=token_columns(text),
        analysis=analyse(text, author_context or None),
        author_stems=_author_stems(author_context) if author_context else (),
        author_context=author_context or None,
    )


def focus_doc(doc: Doc, chosen: Sequence[int]) -> Doc:
    """``doc`` cut to its sentences ``chosen`` (indices into ``doc.analysis.sentences``,
    ascending) from what :func:`make_doc` computed, without tokenising or analysing any
    text again: the tokens of those sentences (spans still into ``doc.text``), their
    signals (:func:`netral_nlp.signals.focus`) and the same author.

    Its word n-grams are those of ``doc`` whose tokens all lie in the chosen sentences:
    none joins two sentences that are not adjacent in the text (joining their text and
    tokenising it again would make one n-gram across each such join)."""
    ranges = sentence_token_ranges(doc)
    spans: list[tuple[int, int]] = []  # token ranges of doc, adjacent sentences merged
    for j in chosen:
        a, b = ranges[j]
        if spans and spans[-1][1] == a:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    columns = TokenColumns(*([x for a, b in spans for x in col[a:b]] for col in doc.columns))
    runs = []  # the same ranges in the focus doc's tokens
    first = 0
    for a, b in spans:
        runs.append((first, first + b - a))
        first += b - a
    return Doc(
        text=doc.text,
        columns=columns,
        analysis=focus(doc.analysis, doc.text, chosen),
        author_stems=doc.author_stems,
        author_context=doc.author_context,
        runs=runs,
    )


@lru_cache(maxsize=4096)  # a feed repeats its authors
def _author_stems(author_context: str) -> tuple[str, ...]:
    return tuple(token_columns(author_context).stems)


_HASHES: dict[str, int] = {}


def hashed(feature: str) -> int:
    """|murmurhash3_32(utf-8, seed 0)| of a feature string, cached (a feed repeats its
    words); its column in a block of 2**bits slots is ``hashed(f) % 2**bits``, the same
    columns as scikit-learn's HashingVectorizer (mmh3 imports in 1 ms, sklearn in 1 s)."""
    h = _HASHES.get(feature)
    if h is None:
        if len(_HASHES) >= _CACHE:
            _HASHES.clear()
        h = _HASHES[feature] = abs(mmh3.hash(feature, 0, signed=True))
    return h


def ngram_hashes(stems: Sequence[str], n: int) -> list[int]:
    """Hashes of the n-grams of a stem sequence, joined with spaces, in order."""
    if n == 1:
        grams = stems
    elif n == 2:
        grams = [f"{a} {b}" for a, b in pairwise(stems)]
    else:
        grams = [" ".join(stems[i : i + n]) for i in range(len(stems) - n + 1)]
    found = list(map(_HASHES.get, grams))  # the cache's hits without a call per n-gram
    if None in found:
        found = [h if h is not None else hashed(g) for h, g in zip(found, grams, strict=True)]
    return found  # type: ignore[return-value]


def feature_index(feature: str, bits: int) -> int:
    """Hashed column of a feature string in a block of 2**bits slots."""
    return hashed(feature) % (1 << bits)


@lru_cache(maxsize=_CACHE)
def _char_counts(word: str, lo: int, hi: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The character n-grams of one word (padded with a space each side) as a count row:
    (sorted distinct columns, their counts)."""
    padded = f" {word} "
    cols = [
        feature_index(padded[i : i + n], bits)
        for n in range(lo, hi + 1)
        for i in range(len(padded) - n + 1)
    ]
    distinct, counts = np.unique(np.asarray(cols, dtype=np.int32), return_counts=True)
    return distinct, counts.astype(np.float32)


def _char_block(docs: Sequence[Doc], lo: int, hi: int, bits: int) -> sp.csr_matrix:
    """Character n-gram counts of each document, as :func:`_csr` makes them: (documents x
    words) @ (words x n-grams) over the words of the batch, so that each word's n-grams
    are listed once per batch rather than once per occurrence (the counts are whole
    numbers, exact in float32 whatever the order they are summed in)."""
    vocab: dict[str, int] = {}
    ids: list[int] = []
    lengths = []
    for d in docs:
        for norm in d.columns.norms:
            j = vocab.get(norm)
            if j is None:
                j = vocab[norm] = len(vocab)
            ids.append(j)
        lengths.append(len(d.columns.norms))
    per_doc = sp.csr_matrix(
        (np.ones(len(ids), dtype=np.float32), np.asarray(ids, dtype=np.int32), _indptr(lengths)),
        shape=(len(docs), len(vocab)),
    )
    rows = [_char_counts(word, lo, hi, bits) for word in vocab]
    if not rows:
        return sp.csr_matrix((len(docs), 1 << bits), dtype=np.float32)
    # the product runs over the n-grams the batch has, not all 2**bits slots (whose
    # work arrays would cost milliseconds to set up for a single text); numbering them in
    # column order keeps each row's columns sorted
    columns, compact = np.unique(np.concatenate([r[0] for r in rows]), return_inverse=True)
    per_word = sp.csr_matrix(
        (
            np.concatenate([r[1] for r in rows]),
            compact.astype(np.int32),
            _indptr([len(r[0]) for r in rows]),
        ),
        shape=(len(vocab), len(columns)),
    )
    x = per_doc @ per_word
    x.sort_indices()
    return sp.csr_matrix(
        (np.log1p(x.data), columns[x.indices], x.indptr), shape=(len(docs), 1 << bits)
    )


def _indptr(lengths: Sequence[int]) -> np.ndarray:
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return indptr


def hash_columns(hashes: list[int], bits: int) -> np.ndarray:
    """Columns of hashes in a block of 2**bits slots."""
    return np.asarray(hashes, dtype=np.int64) & ((1 << bits) - 1)


def _csr(indices: np.ndarray, lengths: Sequence[int], n_cols: int) -> sp.csr_matrix:
    """Count matrix from the columns of every row, concatenated, and each row's number of
    them, with sublinear tf (1 + log count)."""
    x = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices.astype(np.int32), _indptr(lengths)),
        shape=(len(lengths), n_cols),
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
        c, sizes = self.config, self.sizes
        word_lo, word_hi = c.word_ngrams
        char_lo, char_hi = c.char_ngrams
        word: list[int] = []
        word_len = []
        author: list[int] = []
        author_len = []
        asn_word: list[int] = []
        asn_len = []
        for d in docs:
            start = len(word)
            for n in range(word_lo, word_hi + 1):
                if d.runs is None:
                    word += d.ngram_hashes(n)
                else:
                    hashes = d.ngram_hashes(n)
                    for a, b in d.runs:
                        word += hashes[a : max(a, b - n + 1)]
            word_len.append(len(word) - start)
            start = len(author)
            for n in (1, 2):
                author += ngram_hashes(d.author_stems, n)
            author_len.append(len(author) - start)
            if d.analysis.features[_AUTHOR_ASN] > 0:
                asn_word += d.ngram_hashes(1)
                asn_len.append(len(d.columns.stems))
            else:
                asn_len.append(0)
        return {
            "word": _csr(hash_columns(word, c.word_bits), word_len, sizes["word"]),
            "char": _char_block(docs, char_lo, char_hi, c.char_bits),
            "author": _csr(hash_columns(author, c.author_bits), author_len, sizes["author"]),
            "asn_author_word": _csr(
                hash_columns(asn_word, c.asn_author_word_bits), asn_len, sizes["asn_author_word"]
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


def actor_contexts(sentence_features: np.ndarray) -> list[int]:
    """For each sentence (a row of SENTENCE_FEATURES): 1 when an ASN acts in it, 2 when
    only a non-ASN person does, else 0."""
    asn = sentence_features[:, list(_ASN_CONTEXT)].any(axis=1)
    non_asn = sentence_features[:, list(_NON_ASN_CONTEXT)].any(axis=1)
    return np.where(asn, 1, np.where(non_asn, 2, 0)).tolist()


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
    starts = doc.columns.starts
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
        lo, hi = c.ngrams
        mask = (1 << c.bits) - 1
        indices: list[int] = []
        lengths = []
        offsets = [0]
        # who acts in each sentence of the batch, for the crossed n-grams (0: none)
        contexts = iter(
            actor_contexts(np.vstack([d.analysis.sentence_features for d in docs]))
            if c.actor_cross and docs
            else repeat(0)
        )
        for doc in docs:
            grams = [doc.ngram_hashes(n) for n in range(lo, hi + 1)]
            for a, b in sentence_token_ranges(doc):
                start = len(indices)
                for n, hashes in zip(range(lo, hi + 1), grams, strict=True):
                    indices += hashes[a : max(a, b - n + 1)]
                context = next(contexts)
                if context:
                    cols = [h & mask for h in indices[start:]]
                    indices += crossed_columns(cols, context, c.bits)
                lengths.append(len(indices) - start)
            offsets.append(len(lengths))
        x = _csr(hash_columns(indices, c.bits), lengths, 1 << c.bits)
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
