"""The baseline: who did what, sentence by sentence, then the document.

Three fitted parts, all linear and saved as arrays (``.npz`` loaded with
``allow_pickle=False``) plus JSON, so nothing in a model directory can execute code:

1. a **sentence scorer**: logistic regression over each sentence's hashed word n-grams and
   its structural signals (which kind of actor shares a clause with a partisan act, framing,
   attribution). It is trained from rationale spans where items have them (a sentence
   holding an ``act`` span of a flagged item is positive, every sentence of an unflagged item
   negative, the other sentences of flagged items left out) and from the ASN-actor + act
   links of the signals where they do not;
2. a **document flag head**: logistic regression over length-free features: the document's
   hashed TF-IDF flag score, the best sentence's score, the mean of the best two, the share
   of positive sentences, the headline's score and a few shares of framing and procedure
   sentences. It is fitted on out-of-fold scores of parts 1 and the TF-IDF head, so it
   learns how far to trust each; no input counts anything, so repeating or concatenating
   neutral text cannot raise the score;
3. **category heads** (one-vs-rest, Platt-calibrated) on the TF-IDF features of the
   sentences that carry the act (the best two), trained on flagged items only.
"""

from __future__ import annotations

import gc
import json
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import modelcard
from .evidence import build_evidence
from .features import (
    Doc,
    FeatureConfig,
    Featurizer,
    SentenceConfig,
    SentenceFeaturizer,
    focus_doc,
    make_doc,
)
from .limits import MAX_SCORED_CHARS
from .manifest import (
    Manifest,
    ModelLoadError,
    check_npz_sizes,
    check_preprocess_version,
    model_file,
    read_json,
    sha256_file,
)
from .prediction import HEADS, Prediction, decide, sigmoid
from .signals import FEATURE_NAMES, SENTENCE_FEATURES
from .text import PREPROCESS_VERSION
from .text import sentences as split_sentences

WEIGHTS_FILE = "weights.npz"
CONFIG_FILE = "config.json"
FOCUS_SENTENCES = 2  # category heads read the best two sentences of a longer text
_F = {name: i for i, name in enumerate(FEATURE_NAMES)}
_S = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
# Document features of the flag head, besides the scores (all shares or 0/1).
_DOC_SIGNALS = (
    "news_like",
    "framing_share",
    "procedure_share",
    "attribution_share",
    "author_asn",
    "act_negated_share",
    "asn_act_sentence_unframed",
    "non_asn_act_sentence",
    "reporting_body",
)
HEAD_FEATURES: tuple[str, ...] = (
    "doc_logit",
    "sentence_max",
    "sentence_top2",
    "sentence_positive_share",
    "headline",
    "single_sentence",
    "doc_logit_x_single",
    "long",
    "doc_logit_x_long",
    "sentence_max_x_long",
    "sentence_top2_x_long",
    *_DOC_SIGNALS,
)
LONG_SENTENCES = 6  # a text of this many sentences or more is "long" (news, not a post)


@dataclass
class BaselineConfig:
    """Hyper-parameters of the baseline (written next to the model as config.json)."""

    features: FeatureConfig = field(metadata={"help": "hashed n-gram blocks and signal weight"})
    sentences: SentenceConfig = field(
        default_factory=SentenceConfig,
        metadata={"help": "features of one sentence for the sentence scorer"},
    )
    C: float = field(default=4.0, metadata={"help": "inverse L2 strength of the TF-IDF heads"})
    sentence_C: float = field(
        default=0.3, metadata={"help": "inverse L2 strength of the sentence scorer"}
    )
    head_C: float = field(
        default=1.0, metadata={"help": "inverse L2 strength of the document flag head"}
    )
    long_doc_logit: bool = field(
        default=True,
        metadata={"help": "whether the flag head reads the TF-IDF score of long texts"},
    )
    long_shift: float = field(
        default=0.0,
        metadata={"help": "added to the flag logit of long texts (set on dev by training)"},
    )
    augment: float = field(
        default=0.1,
        metadata={"help": "synthetic neutral texts added to training, as a share of it"},
    )
    category_focus: float = field(
        default=0.5,
        metadata={"help": "category rows: this share from the act sentences, the rest whole text"},
    )
    category_flagged_only: bool = field(
        default=True, metadata={"help": "fit the category heads on flagged items only"}
    )
    calibration_folds: int = field(
        default=5, metadata={"help": "folds of the out-of-fold Platt calibration (0: none)"}
    )
    seed: int = field(default=13, metadata={"help": "seed of the folds and the solver"})
    evidence_floor: float = field(
        default=0.5, metadata={"help": "evidence for items scoring >= floor x the flag threshold"}
    )


@dataclass
class _Parts:
    """Intermediate scores of a batch: what the flag head and the evidence read."""

    x: sp.csr_matrix  # document TF-IDF rows
    doc_logit: np.ndarray  # (n_docs,)
    sentence_logit: np.ndarray  # (n_sentences,)
    offsets: np.ndarray  # (n_docs + 1,)


class BaselineClassifier:
    """Implements the :class:`netral_nlp.model.Classifier` protocol."""

    def __init__(
        self,
        config: BaselineConfig,
        featurizer: Featurizer,
        sentence_featurizer: SentenceFeaturizer,
        arrays: dict[str, np.ndarray],
        manifest: Manifest,
    ) -> None:
        self.config = config
        self.featurizer = featurizer
        self.sentence_featurizer = sentence_featurizer
        # coef (n_heads, n_features): row 0 the TF-IDF flag head, then the category heads
        self.coef = arrays["coef"]
        # contiguous copies for sparse @ dense: slicing a column per call would copy megabytes
        self._flag_coef = np.ascontiguousarray(self.coef[0])
        self._category_coef_t = np.ascontiguousarray(self.coef[1:].T)
        self.intercept = arrays["intercept"]  # (n_heads,)
        self.platt = arrays["platt"]  # (n_heads, 2): p = sigmoid(a * z + b), categories
        self.sentence_coef = arrays["sentence_coef"]  # (n_sentence_features,)
        self.sentence_intercept = float(arrays["sentence_intercept"])
        self.head_mean = arrays["head_mean"]  # (len(HEAD_FEATURES),) standardisation
        self.head_std = arrays["head_std"]
        self.head_coef = arrays["head_coef"]
        self.head_intercept = float(arrays["head_intercept"])
        self.manifest = manifest

    # -- fitting -----------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        docs: Sequence[Doc],
        labels: np.ndarray,
        config: BaselineConfig,
        manifest: Manifest,
        rationales: Sequence[Sequence[dict[str, Any]] | None] | None = None,
    ) -> BaselineClassifier:
        """Fit every part. ``labels`` is (n_docs, len(HEADS)) of 0/1 in HEADS order;
        ``rationales`` (same order, optional) the gold spans of each item."""
        extra = neutral_texts(docs, labels[:, 0], config.augment, config.seed)
        if extra:
            docs = [*docs, *(make_doc(t) for t in extra)]
            labels = np.vstack([labels, np.zeros((len(extra), labels.shape[1]), dtype=int)])
            if rationales is not None:
                rationales = [*rationales, *([None] * len(extra))]
        featurizer = Featurizer(config.features).fit(docs)
        x = featurizer.transform(docs)
        used = np.unique(x.indices)  # fit on the columns that occur
        x_used = x[:, used]
        n_heads = len(HEADS)
        coef = np.zeros((n_heads, x.shape[1]), dtype=np.float32)
        intercept = np.zeros(n_heads)
        platt = np.zeros((n_heads, 2))
        coef[0, used], intercept[0], platt[0], doc_oof = _fit_head(x_used, labels[:, 0], config)

        sfeat = SentenceFeaturizer(config.sentences).fit(docs)
        s, offsets = sfeat.transform(docs)
        y_sent = sentence_labels(docs, labels[:, 0], rationales, offsets)
        s_coef, s_b, s_oof = _fit_sentences(s, y_sent, offsets, config)

        head_x = head_features(docs, doc_oof, s_oof, offsets, config.long_doc_logit)
        mean, std = head_x.mean(axis=0), head_x.std(axis=0) + 1e-6
        h_coef, h_b = _fit_logistic((head_x - mean) / std, labels[:, 0], config.head_C, config)

        # category heads: the sentences that carry the act, mixed with the whole text
        flagged = (
            np.flatnonzero(labels[:, 0] == 1)
            if config.category_flagged_only
            else np.arange(len(docs))
        )
        focus = focus_docs(
            [docs[i] for i in flagged],
            [s_oof[offsets[i] : offsets[i + 1]] for i in flagged],
            [rationales[i] if rationales is not None else None for i in flagged],
        )
        w = config.category_focus
        x_flagged = x[flagged]
        xf = w * featurizer.transform(focus) + (1 - w) * x_flagged if focus else x_flagged
        xf_used = xf[:, used]
        for h in range(1, n_heads):
            coef[h, used], intercept[h], platt[h], _ = _fit_head(
                xf_used, labels[flagged, h], config
            )
        manifest.kind = "baseline"
        manifest.preprocess_version = PREPROCESS_VERSION
        manifest.config = {
            "C": config.C,
            "sentence_C": config.sentence_C,
            "features": asdict(config.features),
            "sentences": asdict(config.sentences),
            "seed": config.seed,
            "sentence_rows": int((y_sent >= 0).sum()),
            "sentence_positives": int((y_sent == 1).sum()),
        }
        arrays = {
            "coef": coef,
            "intercept": intercept,
            "platt": platt,
            "sentence_coef": s_coef,
            "sentence_intercept": np.asarray(s_b),
            "head_mean": mean,
            "head_std": std,
            "head_coef": h_coef,
            "head_intercept": np.asarray(h_b),
        }
        return cls(config, featurizer, sfeat, arrays, manifest)

    # -- scoring -----------------------------------------------------------------------
    def docs(self, texts: Sequence[str], author_contexts: Sequence[str | None] | None) -> list[Doc]:
        contexts = author_contexts if author_contexts is not None else [None] * len(texts)
        if len(contexts) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(contexts)} author contexts")
        return [
            make_doc(t[:MAX_SCORED_CHARS], (c or "")[:MAX_SCORED_CHARS] or None)
            for t, c in zip(texts, contexts, strict=False)
        ]

    def _parts(self, docs: Sequence[Doc]) -> _Parts:
        x = self.featurizer.transform(docs)
        doc_logit = np.asarray(x @ self._flag_coef).ravel() + self.intercept[0]
        sentence_logit, offsets = self.sentence_featurizer.logits(
            docs, self.sentence_coef, self.sentence_intercept
        )
        return _Parts(x, doc_logit, sentence_logit, offsets)

    def _probabilities(self, docs: Sequence[Doc]) -> tuple[np.ndarray, _Parts]:
        parts = self._parts(docs)
        head_x = head_features(
            docs, parts.doc_logit, parts.sentence_logit, parts.offsets, self.config.long_doc_logit
        )
        z_flag = ((head_x - self.head_mean) / self.head_std) @ self.head_coef + self.head_intercept
        z_flag = z_flag + self.config.long_shift * head_x[:, HEAD_FEATURES.index("long")]
        long_docs = [i for i, d in enumerate(docs) if len(d.analysis.sentences) > FOCUS_SENTENCES]
        x_focus = parts.x
        if long_docs:
            focus = focus_docs(
                [docs[i] for i in long_docs],
                [parts.sentence_logit[parts.offsets[i] : parts.offsets[i + 1]] for i in long_docs],
                None,
            )
            z_long = np.asarray(self.featurizer.transform(focus) @ self._category_coef_t)
        z_cat = np.asarray(x_focus @ self._category_coef_t) + self.intercept[1:]
        if long_docs:
            w = self.config.category_focus
            z_cat[long_docs] = w * z_long + (1 - w) * z_cat[long_docs] + w * self.intercept[1:]
        probs = np.empty((len(docs), len(HEADS)))
        probs[:, 0] = sigmoid(z_flag)
        probs[:, 1:] = sigmoid(z_cat * self.platt[1:, 0] + self.platt[1:, 1])
        return probs, parts

    def probabilities(self, docs: Sequence[Doc]) -> np.ndarray:
        """(n_docs, len(HEADS)) calibrated probabilities in [0, 1]."""
        if not docs:
            return np.zeros((0, len(HEADS)))
        return self._probabilities(docs)[0]

    def predict(
        self, texts: Sequence[str], author_contexts: Sequence[str | None] | None = None
    ) -> list[Prediction]:
        with _gc_paused():
            return self._predict(texts, author_contexts)

    def _predict(
        self, texts: Sequence[str], author_contexts: Sequence[str | None] | None
    ) -> list[Prediction]:
        docs = self.docs(texts, author_contexts)
        if not docs:
            return []
        probs, parts = self._probabilities(docs)
        t_flag = self.manifest.thresholds.get("flag", 0.5)
        out = []
        for k, (doc, p) in enumerate(zip(docs, probs, strict=True)):
            pred = decide(p, self.manifest.thresholds)
            if pred.score >= self.config.evidence_floor * t_flag:
                sentence_logit = parts.sentence_logit[parts.offsets[k] : parts.offsets[k + 1]]
                pred.evidence, pred.spans = build_evidence(
                    doc, self.featurizer, self.coef[0], sentence_logit
                )
            out.append(pred)
        return out

    # -- persistence -------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {
            "intercept": self.intercept,
            "platt": self.platt,
            "signal_mean": self.featurizer.signal_mean,
            "signal_std": self.featurizer.signal_std,
            "head_mean": self.head_mean,
            "head_std": self.head_std,
            "head_coef": self.head_coef,
            "head_intercept": np.asarray(self.head_intercept),
            "sentence_intercept": np.asarray(self.sentence_intercept),
        }
        for name, idf in self.featurizer.idf.items():
            keep = np.flatnonzero(idf).astype(np.int32)
            arrays[f"idf_{name}_index"], arrays[f"idf_{name}_value"] = keep, idf[keep]
        keep = np.flatnonzero(self.sentence_featurizer.idf).astype(np.int32)
        arrays["sentence_idf_index"] = keep
        arrays["sentence_idf_value"] = self.sentence_featurizer.idf[keep]
        keep = np.flatnonzero(self.sentence_coef).astype(np.int32)
        arrays["sentence_coef_index"] = keep
        arrays["sentence_coef_value"] = self.sentence_coef[keep]
        coef = sp.csr_matrix(self.coef)
        arrays.update(coef_data=coef.data, coef_indices=coef.indices, coef_indptr=coef.indptr)
        np.savez_compressed(directory / WEIGHTS_FILE, **arrays)
        config = asdict(self.config)
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        self.manifest.files = {
            name: sha256_file(directory / name) for name in (WEIGHTS_FILE, CONFIG_FILE)
        }
        self.manifest.write(directory)
        (directory / "README.md").write_text(modelcard.render(self.manifest), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, manifest: Manifest) -> BaselineClassifier:
        """Load a verified directory; only files its manifest lists are opened."""
        check_preprocess_version(directory, manifest)
        config_path = model_file(directory, manifest, CONFIG_FILE)
        weights_path = model_file(directory, manifest, WEIGHTS_FILE)
        raw = read_json(config_path)
        try:

            def tuples(d: dict[str, Any]) -> dict[str, Any]:
                return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}

            raw["features"] = FeatureConfig(**tuples(raw["features"]))
            raw["sentences"] = SentenceConfig(**tuples(raw["sentences"]))
            config = BaselineConfig(**raw)
            _check_hash_bits(config.features)
            _check_hash_bits(config.sentences, "sentences")
            featurizer = Featurizer(config.features)
            check_npz_sizes(
                weights_path, _npz_budget(featurizer.n_features, 1 << config.sentences.bits)
            )
            with np.load(weights_path, allow_pickle=False) as w:
                for name, size in featurizer.sizes.items():
                    idf = np.zeros(size, dtype=np.float32)
                    idf[w[f"idf_{name}_index"]] = w[f"idf_{name}_value"]
                    featurizer.idf[name] = idf
                featurizer.signal_mean, featurizer.signal_std = w["signal_mean"], w["signal_std"]
                sfeat = SentenceFeaturizer(config.sentences)
                sfeat.idf = np.zeros(1 << config.sentences.bits, dtype=np.float32)
                sfeat.idf[w["sentence_idf_index"]] = w["sentence_idf_value"]
                s_coef = np.zeros(sfeat.n_features, dtype=np.float32)
                s_coef[w["sentence_coef_index"]] = w["sentence_coef_value"]
                arrays = {
                    "coef": sp.csr_matrix(
                        (w["coef_data"], w["coef_indices"], w["coef_indptr"]),
                        shape=(len(HEADS), featurizer.n_features),
                    ).toarray(),
                    "sentence_coef": s_coef,
                    **{
                        k: w[k]
                        for k in (
                            "intercept",
                            "platt",
                            "sentence_intercept",
                            "head_mean",
                            "head_std",
                            "head_coef",
                            "head_intercept",
                        )
                    },
                }
                if arrays["head_coef"].shape != (len(HEAD_FEATURES),):
                    raise ValueError("head_coef has the wrong shape")
        except (
            OSError,
            KeyError,
            ValueError,
            TypeError,
            AttributeError,
            zipfile.BadZipFile,
        ) as exc:
            raise ModelLoadError(f"{directory}: damaged baseline model ({exc})") from None
        return cls(config, featurizer, sfeat, arrays, manifest)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a batch is scored: a batch makes a few
    hundred thousand short-lived containers, all freed by reference counting, and the
    collector would walk them (and the tokenizer's caches) over and over, a tenth of the
    scoring time. (The batch's documents are freed before it resumes, or its first pass
    would walk them all once.) Left as it was when the caller had paused it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# -- the parts -------------------------------------------------------------------------


def neutral_texts(docs: Sequence[Doc], flags: np.ndarray, share: float, seed: int) -> list[str]:
    """Synthetic unflagged texts built from the unflagged training texts, ``share`` x
    len(docs) of them: one sentence repeated, and a bag of their words without punctuation,
    at lengths from 50 to 3,000 words. Repeating or shuffling texts without a violation
    gives none, so they teach the heads that length and repetition alone are no evidence.
    (Digests of several joined texts were tried too: they taught that long news is
    neutral and cost recall on real reports.)"""
    import random

    negatives = [d.text for d, f in zip(docs, flags, strict=True) if not f and d.text.strip()]
    n = int(share * len(docs))
    if not negatives or n == 0:
        return []
    rng = random.Random(seed)
    out = []
    for k in range(n):
        size = rng.choice((50, 100, 200, 400, 800, 1500, 3000))
        if k % 2:  # one sentence of an unflagged text, repeated
            text = rng.choice(negatives)
            spans = split_sentences(text) or [(0, len(text))]
            s, e = rng.choice(spans)
            sentence = text[s:e]
            out.append(" ".join([sentence] * max(2, size // max(len(sentence.split()), 1))))
        else:  # a bag of their words
            words: list[str] = []
            while len(words) < size:
                words.extend(rng.choice(negatives).split())
            rng.shuffle(words)
            out.append(" ".join(w.strip(".,!?") for w in words[:size]))
    return out


def sentence_labels(
    docs: Sequence[Doc],
    flags: np.ndarray,
    rationales: Sequence[Sequence[dict[str, Any]] | None] | None,
    offsets: np.ndarray,
) -> np.ndarray:
    """(n_sentences,) of 1 (the act of a flagged item), 0 (a sentence of an unflagged item)
    or -1 (left out: the other sentences of a flagged item).

    A flagged item with ``act`` rationale spans marks the sentences that overlap them;
    without, the weak fallback marks sentences where the signals link an ASN actor to an
    unnegated act, or, in a text of at most three sentences, any unnegated act (a short
    post's author is often the actor) or every sentence when the author context is ASN.
    """
    y = np.full(int(offsets[-1]), -1, dtype=np.int8)
    for k, doc in enumerate(docs):
        a, b = int(offsets[k]), int(offsets[k + 1])
        if not flags[k]:
            y[a:b] = 0
            continue
        sents = doc.analysis.sentences
        acts = [
            (r["start"], r["end"])
            for r in (rationales[k] or () if rationales is not None else ())
            if r.get("role") == "act"
        ]
        if acts:
            for j, (s, e) in enumerate(sents):
                if any(rs < e and s < re for rs, re in acts):
                    y[a + j] = 1
            continue
        sf = doc.analysis.sentence_features
        short = len(sents) <= 3
        for j in range(len(sents)):
            if sf[j, _S["asn_act_unnegated"]] or (
                short
                and (sf[j, _S["act_unnegated"]] or doc.analysis.features[_F["author_asn"]] > 0)
            ):
                y[a + j] = 1
    return y


def head_features(
    docs: Sequence[Doc],
    doc_logit: np.ndarray,
    sentence_logit: np.ndarray,
    offsets: np.ndarray,
    long_doc_logit: bool = True,
) -> np.ndarray:
    """(n_docs, len(HEAD_FEATURES)) inputs of the flag head: none grows with length. With
    ``long_doc_logit`` false, a long text's TF-IDF score is left out (0): its sentences
    decide."""
    n = len(docs)
    out = np.zeros((n, len(HEAD_FEATURES)))
    z = np.asarray(sentence_logit)
    offsets = np.asarray(offsets)
    lengths = np.diff(offsets)
    scored = np.flatnonzero(lengths > 0)
    if len(scored):
        # each document's sentence scores, highest first, in one sort for the batch
        ranked = z[np.lexsort((-z, np.repeat(np.arange(n), lengths)))]
        first, count = offsets[scored], lengths[scored]
        top = ranked[first]
        second = ranked[np.where(count > 1, first + 1, first)]
        out[scored, 1] = top
        # the mean of the best two in the scores' own precision, as np.mean computes it
        out[scored, 2] = np.where(count > 1, (top + second) / 2, top)
        out[scored, 3] = np.add.reduceat((z > 0).astype(np.int64), first) / count
        out[scored, 4] = z[first]
    single = (lengths <= 1).astype(float)
    long = (lengths >= LONG_SENTENCES).astype(float)
    out[:, 0] = doc_logit if long_doc_logit else np.where(long > 0, 0.0, doc_logit)
    out[:, 5] = single
    out[:, 6] = doc_logit * single
    out[:, 7] = long
    out[:, 8:11] = out[:, [0, 1, 2]] * long[:, None]
    if n:
        signals = np.vstack([doc.analysis.features for doc in docs])
        out[:, 11:] = signals[:, [_F[name] for name in _DOC_SIGNALS]]
    return np.clip(out, -20, 20)


def focus_docs(
    docs: Sequence[Doc],
    sentence_logits: Sequence[np.ndarray],
    rationales: Sequence[Sequence[dict[str, Any]] | None] | None,
) -> list[Doc]:
    """Each document cut to the sentences that carry the act: those overlapping gold
    ``act`` spans when given, else the best FOCUS_SENTENCES by score, in text order
    (:func:`netral_nlp.features.focus_doc`: from the document's own tokens and signals,
    the same for training and scoring). Documents of at most FOCUS_SENTENCES sentences
    stay whole."""
    out = []
    for k, doc in enumerate(docs):
        sents = doc.analysis.sentences
        if len(sents) <= FOCUS_SENTENCES:
            out.append(doc)
            continue
        acts = [
            (r["start"], r["end"])
            for r in ((rationales[k] or ()) if rationales is not None else ())
            if r.get("role") == "act"
        ]
        chosen = [j for j, (s, e) in enumerate(sents) if any(a < e and s < b for a, b in acts)]
        if not chosen:
            order = np.argsort(-np.asarray(sentence_logits[k]), kind="stable")
            chosen = sorted(int(j) for j in order[:FOCUS_SENTENCES])
        out.append(focus_doc(doc, chosen))
    return out


def _logistic(C: float, config: BaselineConfig, balanced: bool = True) -> Any:
    from sklearn.linear_model import LogisticRegression  # fitting only: scorers start faster

    return LogisticRegression(
        C=C,
        class_weight="balanced" if balanced else None,
        solver="liblinear",
        dual=True,  # far fewer samples than features: the dual is ~10x faster
        max_iter=10_000,
        random_state=config.seed,
    )


def _fit_logistic(
    x: np.ndarray, y: np.ndarray, C: float, config: BaselineConfig
) -> tuple[np.ndarray, float]:
    """A small dense logistic regression (the flag head): calibrated, no class weights."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return np.zeros(x.shape[1]), -10.0 if y.max() == 0 else 10.0
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=1000).fit(x, y)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def _fit_sentences(
    s: sp.csr_matrix, y: np.ndarray, offsets: np.ndarray, config: BaselineConfig
) -> tuple[np.ndarray, float, np.ndarray]:
    """Fit the sentence scorer on its labelled rows; return (coef, intercept, out-of-fold
    logits of every sentence, grouped by document so no document scores itself)."""
    from sklearn.model_selection import GroupKFold

    n_features = s.shape[1]
    known = np.flatnonzero(y >= 0)
    yk = y[known].astype(int)
    if len(known) == 0 or yk.min() == yk.max():
        b = -10.0 if not len(known) or yk.max() == 0 else 10.0
        return np.zeros(n_features, dtype=np.float32), b, np.full(s.shape[0], b)
    used = np.unique(s.indices)
    s_used = s[:, used]
    doc_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    folds = min(config.calibration_folds, len(np.unique(doc_of[known])))
    oof = np.zeros(s.shape[0])
    if folds >= 2:
        # every sentence gets the score of the fold model that did not see its document
        for train_docs, test_docs in GroupKFold(n_splits=folds).split(
            np.zeros(len(offsets) - 1), groups=np.arange(len(offsets) - 1)
        ):
            in_train = np.isin(doc_of[known], train_docs)
            rows = known[in_train]
            if y[rows].min() == y[rows].max():
                continue
            model = _logistic(config.sentence_C, config).fit(s_used[rows], y[rows].astype(int))
            held = np.flatnonzero(np.isin(doc_of, test_docs))
            oof[held] = model.decision_function(s_used[held])
    model = _logistic(config.sentence_C, config).fit(s_used[known], yk)
    coef = np.zeros(n_features, dtype=np.float32)
    coef[used] = model.coef_[0]
    if folds < 2:
        oof = np.asarray(s @ coef).ravel() + model.intercept_[0]
    return coef, float(model.intercept_[0]), oof


# The shipped model uses 20 bits per hashed block; 2**22 slots per block bounds a loaded
# model at 6 heads x (4 x 2**22) features x 4 bytes = 400 MB of dense weights.
MAX_HASH_BITS = 22


def _check_hash_bits(features: FeatureConfig | SentenceConfig, block: str = "features") -> None:
    """Bound the hashed blocks before any array of their size is made."""
    for name, value in asdict(features).items():
        if (name.endswith("_bits") or name == "bits") and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_HASH_BITS
        ):
            raise ValueError(
                f"config.json: {block}.{name} is {value!r}; expected 1..{MAX_HASH_BITS}"
            )


def _npz_budget(n_features: int, n_sentence_features: int) -> int:
    """Bytes an honest weights.npz can expand to: the coefficients' data and indices
    (n_heads x n_features, 4 bytes each at most), the idf index and value per slot (8 bytes),
    the sentence scorer's idf and coefficients (index and value per slot, twice) and 1 MiB
    for the small arrays."""
    return 2 * len(HEADS) * n_features * 4 + n_features * 8 + n_sentence_features * 16 + (1 << 20)


def _fit_head(
    x: sp.csr_matrix, y: np.ndarray, config: BaselineConfig
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Fit one TF-IDF logistic head and its Platt scaling on out-of-fold decision values;
    returns (coef, intercept, platt, out-of-fold decision values)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if y.min() == y.max():  # a class absent from training: a constant, honest head
        z = -10.0 if y.max() == 0 else 10.0
        return np.zeros(x.shape[1], dtype=np.float32), z, np.array([1.0, 0.0]), np.full(len(y), z)

    folds = min(config.calibration_folds, int(min(y.sum(), len(y) - y.sum())))
    head = _logistic(config.C, config).fit(x, y)
    if folds >= 2:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
        z = cross_val_predict(_logistic(config.C, config), x, y, cv=cv, method="decision_function")
        calibrator = LogisticRegression(C=1e4, solver="lbfgs").fit(z.reshape(-1, 1), y)
        platt = np.array([calibrator.coef_[0, 0], calibrator.intercept_[0]])
    else:
        platt = np.array([1.0, 0.0])
        z = head.decision_function(x)
    return head.coef_[0].astype(np.float32), float(head.intercept_[0]), platt, z


def docs_for(texts: Sequence[str], contexts: Sequence[str | None]) -> list[Doc]:
    """Prepare training documents (same path as scoring)."""
    return [make_doc(t, c) for t, c in zip(texts, contexts, strict=False)]
