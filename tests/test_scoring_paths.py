"""The baseline's batched scoring computes what the plain per-document definitions give.

Scoring is written for speed: character n-grams counted once per word of a batch, n-gram
hashes shared by the document block, the sentence rows and the evidence, the flag head's
inputs computed for a whole batch at once. Each test here holds one of those against the
definition it replaces, so a faster rewrite that changes a score fails here first.
"""

from __future__ import annotations

from itertools import combinations, pairwise
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from netral_nlp import load_model
from netral_nlp.baseline import (
    _DOC_SIGNALS,
    HEAD_FEATURES,
    LONG_SENTENCES,
    focus_docs,
    head_features,
)
from netral_nlp.data import read_annotations
from netral_nlp.features import (
    FeatureConfig,
    Featurizer,
    _char_block,
    feature_index,
    focus_doc,
    hash_columns,
    make_doc,
    sentence_token_ranges,
)
from netral_nlp.model import default_model_dir
from netral_nlp.signals import FEATURE_NAMES, analyse, focus

CORPUS = Path(__file__).parents[1] / "data" / "annotations"
TEXTS = [
    "Camat Sukamaju hadir di kampanye akbar paslon 02 sambil pose dua jari.",
    "Harga cabai naik lagi di pasar pagi ini. Harga cabai naik lagi di pasar pagi ini.",
    "ASN dilarang ikut kampanye, kata sekda dalam sosialisasi netralitas.",
    "gas pol paslon 3 🤟 #MenangBersama @warga https://contoh.id/a anak2 bangeeet",
    "",
    "Bu lurah membagikan kaos partai di balai desa. Warga resah! Bawaslu harus turun tangan.",
]


def _counts(columns: list[list[int]], n_cols: int) -> sp.csr_matrix:
    """The plain definition: a row of counts per document, 1 + log count."""
    rows = [np.bincount(np.asarray(c, dtype=np.int64), minlength=n_cols) for c in columns]
    x = sp.csr_matrix(np.vstack(rows).astype(np.float32))
    x.data = np.log1p(x.data)
    return x


def test_character_block_counts_every_occurrence_of_every_word() -> None:
    docs = [make_doc(t) for t in TEXTS]
    bits = 12  # small, so the plain dense definition stays cheap
    expected = [
        [
            feature_index(f" {norm} "[i : i + n], bits)
            for norm in doc.columns.norms
            for n in range(3, 6)
            for i in range(len(norm) + 3 - n)
        ]
        for doc in docs
    ]
    got = _char_block(docs, 3, 5, bits)
    want = _counts(expected, 1 << bits)
    assert got.has_sorted_indices
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


def test_shared_ngram_hashes_are_the_joined_stems() -> None:
    doc = make_doc(TEXTS[0])
    stems = doc.columns.stems
    bigrams = [" ".join(stems[i : i + 2]) for i in range(len(stems) - 1)]
    assert list(hash_columns(doc.ngram_hashes(1), 18)) == [feature_index(s, 18) for s in stems]
    assert list(hash_columns(doc.ngram_hashes(2), 20)) == [feature_index(b, 20) for b in bigrams]


def _plain_head_features(docs, doc_logit, sentence_logit, offsets, long_doc_logit):
    """head_features as defined document by document."""
    out = np.zeros((len(docs), len(HEAD_FEATURES)))
    for k, doc in enumerate(docs):
        z = sentence_logit[offsets[k] : offsets[k + 1]]
        if len(z):
            top = np.sort(z)[::-1]
            out[k, 1:5] = top[0], top[:2].mean(), float((z > 0).mean()), z[0]
        single, long = float(len(z) <= 1), float(len(z) >= LONG_SENTENCES)
        out[k, 0] = doc_logit[k] if long_doc_logit or not long else 0.0
        out[k, 5:8] = single, doc_logit[k] * single, long
        out[k, 8:11] = out[k, [0, 1, 2]] * long
        out[k, 11:] = [doc.analysis.features[FEATURE_NAMES.index(n)] for n in _DOC_SIGNALS]
    return np.clip(out, -20, 20)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_head_features_of_a_batch_are_those_of_each_document(dtype) -> None:
    docs = [make_doc(t) for t in TEXTS]
    rng = np.random.default_rng(0)
    for trial in range(200):
        lengths = rng.integers(0, 9, size=len(docs))  # 0: a document without sentences
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        z = (rng.normal(size=offsets[-1]) * 5).astype(dtype)
        if trial % 3 == 0:
            z = np.round(z)  # ties
        doc_logit = rng.normal(size=len(docs)) * 4
        for long_doc_logit in (True, False):
            got = head_features(docs, doc_logit, z, offsets, long_doc_logit)
            want = _plain_head_features(docs, doc_logit, z, offsets, long_doc_logit)
            assert np.array_equal(got, want)


@pytest.mark.skipif(not default_model_dir().is_dir(), reason="no shipped model")
def test_a_documents_prediction_does_not_depend_on_its_batch() -> None:
    """Words, hashes and n-gram rows are shared within a batch: each item must still score
    as it does alone (up to float32 summation order in the sentence scorer's product)."""
    clf = load_model(default_model_dir())
    items = read_annotations(CORPUS)[::25]
    texts = [i.text for i in items] + TEXTS
    authors = [i.author_context for i in items] + [None, "guru SDN 1 | PNS", None, None, None, ""]
    whole = clf.predict(texts, authors)
    reverse = clf.predict(texts[::-1], authors[::-1])[::-1]
    alone = [clf.predict([t], [a])[0] for t, a in zip(texts[:40], authors[:40], strict=True)]
    for other in (reverse, alone):
        for a, b in zip(whole, other, strict=False):
            assert a.score == pytest.approx(b.score, abs=1e-6)
            assert a.category_scores == pytest.approx(b.category_scores, abs=1e-6)
            assert (a.flag, a.categories) == (b.flag, b.categories)
            assert a.evidence == b.evidence and a.spans == b.spans


def test_who_acts_is_read_sentence_by_sentence() -> None:
    from netral_nlp.features import _ASN_CONTEXT, _NON_ASN_CONTEXT, actor_contexts

    sf = np.vstack([make_doc(t, "guru SDN 1 | PNS").analysis.sentence_features for t in TEXTS])
    village_head = "Kepala desa Sukamaju mengajak warga mencoblos paslon nomor 2."
    sf = np.vstack([sf, make_doc(village_head).analysis.sentence_features])
    want = [
        1 if row[list(_ASN_CONTEXT)].any() else 2 if row[list(_NON_ASN_CONTEXT)].any() else 0
        for row in sf
    ]
    assert actor_contexts(sf) == want
    assert set(want) == {0, 1, 2}


# A report of five sentences: a dateline, actors of every kind, negation, attribution,
# the first person; and a run of emoji between two sentences that belongs to neither.
STORY = (
    "SUKAMAJU, Pak Darto, camat Sukamaju, hadir di kampanye paslon 02 kemarin. "
    "Warga ramai datang ke lapangan sambil pose dua jari. 🔥🔥\n"
    "Menurut Bawaslu, ASN dilarang ikut kampanye. "
    "Saya dukung paslon nomor 2, kata kades Sumberjaya. "
    "Bu Ratna, guru SDN 4, membagikan kaos partai di balai desa."
)
_NEWS_LIKE = FEATURE_NAMES.index("news_like")


def _subsets(n: int) -> list[list[int]]:
    return [list(c) for size in range(1, n + 1) for c in combinations(range(n), size)]


@pytest.mark.parametrize("author", [None, "guru SDN 1 | PNS"])
def test_focus_signals_are_those_of_the_chosen_sentences_alone(author) -> None:
    """The document features of a subset of sentences, derived from the rows the whole
    text's analysis kept, equal those of analysing the subset's text."""
    whole = analyse(STORY, author)
    assert np.array_equal(focus(whole, STORY, range(len(whole.sentences))).features, whole.features)
    for chosen in _subsets(len(whole.sentences)):
        text = " ".join(STORY[s:e] for s, e in (whole.sentences[j] for j in chosen))
        alone = analyse(text, author)
        assert len(alone.sentences) == len(chosen)  # the reference splits as the whole did
        assert np.array_equal(focus(whole, STORY, chosen).features, alone.features), chosen
    # news_like follows the sentences: the dateline opens the first one only
    assert whole.features[_NEWS_LIKE] == 1
    assert focus(whole, STORY, [1, 2]).features[_NEWS_LIKE] == 0


def _focus_grams(doc, chosen: list[int]) -> list[str]:
    """The plain definition of a focus doc's word n-grams: the document's 1- and 2-grams
    whose tokens all lie in the chosen sentences."""
    inside = {i for j in chosen for i in range(*sentence_token_ranges(doc)[j])}
    stems = doc.columns.stems
    return [
        " ".join(stems[i : i + n])
        for n in (1, 2)
        for i in range(len(stems) - n + 1)
        if inside.issuperset(range(i, i + n))
    ]


def test_a_focus_doc_is_its_sentences_tokens() -> None:
    """Exact against the plain definitions; against the joined text made and analysed again,
    the same row when the chosen sentences' tokens are adjacent in the text, else one bigram
    fewer across each join (the rest of the row the same)."""
    doc = make_doc(STORY, "Kasubag Umum | PNS")
    bits = 14
    config = FeatureConfig(word_bits=bits, char_bits=bits, asn_author_word_bits=bits, min_df=1)
    sentences, ranges = doc.analysis.sentences, sentence_token_ranges(doc)
    references = {
        tuple(chosen): make_doc(
            " ".join(STORY[s:e] for s, e in (sentences[j] for j in chosen)), doc.author_context
        )
        for chosen in _subsets(len(sentences))
    }
    featurizer = Featurizer(config).fit([doc, *references.values()])
    words = featurizer.sizes["word"]
    for chosen, reference in references.items():
        focused = focus_doc(doc, list(chosen))
        assert focused.columns.norms == [
            doc.columns.norms[i] for j in chosen for i in range(*ranges[j])
        ]
        assert focused.analysis.sentences == [sentences[j] for j in chosen]
        grams = _focus_grams(doc, list(chosen))
        want = _counts([[feature_index(g, bits) for g in grams]], 1 << bits)
        assert (featurizer._counts([focused])["word"] != want).nnz == 0, chosen

        x, y = featurizer.transform([focused]), featurizer.transform([reference])
        # joins of sentences apart in the text, or with the emoji between them
        joins = sum(b - a > 1 or a == 1 for a, b in pairwise(chosen))
        assert len(reference.ngram_hashes(1)) + len(reference.ngram_hashes(2)) == len(grams) + joins
        if joins == 0:
            assert abs(x - y).max() < 1e-6, chosen
        else:
            assert abs(x[:, words:] - y[:, words:]).max() < 1e-6, chosen


def test_only_a_text_of_more_than_two_sentences_is_cut_to_its_best_two() -> None:
    short = make_doc("Camat hadir di kampanye paslon 02. Warga resah.")
    long = make_doc(STORY)
    scores = [np.array([0.5, 3.0]), np.array([0.1, 2.0, -1.0, 1.5, 0.0])]
    kept, cut = focus_docs([short, long], scores, None)
    assert kept is short
    assert cut.analysis.sentences == [long.analysis.sentences[j] for j in (1, 3)]
    # gold act spans choose the sentences instead of the scores
    act = STORY.index("membagikan kaos")
    rationale = [[], [{"start": act, "end": act + 15, "role": "act"}]]
    gold = focus_docs([short, long], scores, rationale)[1]
    assert gold.analysis.sentences == [long.analysis.sentences[4]]
