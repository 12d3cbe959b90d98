"""Turn items into the baseline's feature matrix: hashed TF-IDF of word n-grams (stems),
character n-grams (normalised surface forms) and the author context, plus the signal
features. Hashing keeps memory flat and needs no vocabulary; only the inverse document
frequencies of features seen in at least ``min_df`` training documents are kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils import murmurhash3_32

from .signals import FEATURE_NAMES, Analysis, analyse
from .text import Token, tokenize

# Block order of the matrix columns; the offsets follow from the sizes in the config.
BLOCKS = ("word", "char", "author")


@dataclass
class FeatureConfig:
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)
    word_bits: int = 20  # 2**20 hashed word n-gram slots
    char_bits: int = 20
    author_bits: int = 16
    min_df: int = 2
    signal_weight: float = 1.0  # scale of the standardised signal block against TF-IDF rows


@dataclass
class Doc:
    """One item prepared for features: tokens keep spans into ``text`` for evidence."""

    text: str
    tokens: list[Token]
    analysis: Analysis
    author_tokens: list[Token] = field(default_factory=list)

    @property
    def word_string(self) -> str:
        return " ".join(t.stem for t in self.tokens)

    @property
    def char_string(self) -> str:
        return " ".join(t.norm for t in self.tokens)

    @property
    def author_string(self) -> str:
        return " ".join(t.stem for t in self.author_tokens)


def make_doc(text: str, author_context: str | None = None) -> Doc:
    return Doc(
        text=text,
        tokens=tokenize(text),
        analysis=analyse(text, author_context or None),
        author_tokens=tokenize(author_context) if author_context else [],
    )


def feature_index(feature: str, bits: int) -> int:
    """Column of a hashed feature string, the same as sklearn's HashingVectorizer."""
    return abs(murmurhash3_32(feature, seed=0)) % (1 << bits)


class Featurizer:
    """Stateless hashing plus fitted IDF weights and signal standardisation."""

    def __init__(
        self,
        config: FeatureConfig,
        idf: dict[str, np.ndarray] | None = None,
        signal_mean: np.ndarray | None = None,
        signal_std: np.ndarray | None = None,
    ) -> None:
        self.config = config
        c = config
        common = dict(alternate_sign=False, norm=None, lowercase=False, dtype=np.float32)
        self._vectorizers = {
            "word": HashingVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=c.word_ngrams, n_features=1 << c.word_bits, **common),
            "char": HashingVectorizer(analyzer="char_wb", ngram_range=c.char_ngrams, n_features=1 << c.char_bits, **common),
            "author": HashingVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), n_features=1 << c.author_bits, **common),
        }
        self.idf = idf or {}
        self.signal_mean = signal_mean
        self.signal_std = signal_std

    @property
    def n_signal(self) -> int:
        return len(FEATURE_NAMES)

    def block_offsets(self) -> dict[str, int]:
        offsets, at = {}, 0
        for name in BLOCKS:
            offsets[name] = at
            at += self._vectorizers[name].n_features
        offsets["signals"] = at
        return offsets

    @property
    def n_features(self) -> int:
        return self.block_offsets()["signals"] + self.n_signal

    def _counts(self, docs: Sequence[Doc]) -> dict[str, sp.csr_matrix]:
        strings = {
            "word": [d.word_string for d in docs],
            "char": [d.char_string for d in docs],
            "author": [d.author_string for d in docs],
        }
        out = {}
        for name in BLOCKS:
            x = self._vectorizers[name].transform(strings[name]).tocsr()
            np.log1p(x.data, out=x.data)  # sublinear tf
            out[name] = x
        return out

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
        counts = self._counts(docs)
        blocks = []
        for name in BLOCKS:
            x = counts[name]
            x.data *= self.idf[name][x.indices]
            x.eliminate_zeros()
            blocks.append(normalize(x, copy=False))
        sig = np.vstack([d.analysis.features for d in docs]) if docs else np.zeros((0, self.n_signal))
        sig = (sig - self.signal_mean) / self.signal_std * self.config.signal_weight
        blocks.append(sp.csr_matrix(sig.astype(np.float32)))
        return sp.hstack(blocks, format="csr", dtype=np.float32)
