"""The transformer path: engine mechanics, span labels from rationale offsets, the span
loss, fine-tuning a tiny BERT, saving and loading (span head included), padding
invariance, windows over a long article, the dev curve and test figures in the manifest,
ONNX export, the missing-weights message and the promise that the baseline path never
imports torch."""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tiny_bert import FILLER, build_tiny_bert, incident, write_corpus

from netral_nlp.data import Rationale
from netral_nlp.engine import Encoder, Engine, Request, pad_batch, plan_batches
from netral_nlp.manifest import ModelLoadError
from netral_nlp.model import load_model
from netral_nlp.prediction import HEADS
from netral_nlp.transformer import IGNORE, SPAN_TAGS, prepare, span_labels

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- engine, no model


@pytest.fixture(scope="module")
def wordpiece() -> Any:
    """A small WordPiece tokenizer with BERT's pair template (tokenizers only)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(
        FILLER * 3, trainers.WordPieceTrainer(vocab_size=300, special_tokens=special)
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    return tok


def _sum_runner(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
    """A fake model whose two 'logits' are the sum and count of real token ids."""
    return np.stack([(ids * mask).sum(axis=1), mask.sum(axis=1)], axis=1).astype(np.float32)


def test_plan_batches_respects_the_token_budget() -> None:
    rng = random.Random(0)
    lengths = [rng.choice([5, 12, 30, 64, 200]) for _ in range(300)]
    batches = plan_batches(lengths, max_tokens=512)
    assert sorted(i for b in batches for i in b) == list(range(300))
    for batch in batches:
        padded = -(-max(lengths[i] for i in batch) // 8) * 8
        assert len(batch) * padded <= 512


def test_pad_batch_pads_to_a_multiple_of_8(wordpiece: Any) -> None:
    encoder = Encoder(wordpiece, max_length=64, stride=8, max_context_tokens=8)
    windows = [
        w for item in encoder.encode(["cuaca cerah", FILLER[1]], [None, "guru"]) for w in item
    ]
    ids, mask, types = pad_batch(windows)
    assert ids.shape[1] % 8 == 0 and ids.shape[1] - max(len(w.ids) for w in windows) < 8
    assert mask.sum() == sum(len(w.ids) for w in windows)
    assert types[1].max() == 1  # the context is the second segment


def test_encoder_windows_overlap_and_cover_the_text(wordpiece: Any) -> None:
    text = " ".join(FILLER * 4)
    encoder = Encoder(wordpiece, max_length=32, stride=8, max_context_tokens=8)
    (windows,) = encoder.encode([text], ["kepala dinas " * 20])  # a long context is cut
    assert len(windows) > 3
    assert all(len(w.ids) <= 32 for w in windows)
    assert windows[0].span[0] == 0 and windows[-1].span[1] == len(text)
    for a, b in itertools.pairwise(windows):
        assert b.span[0] < a.span[1]  # consecutive windows share text


def test_engine_keeps_input_order_across_buckets_and_chunks(wordpiece: Any) -> None:
    rng = random.Random(1)
    texts = [" ".join(rng.choices(FILLER, k=rng.choice([1, 1, 2, 12]))) for _ in range(60)]
    encoder = Encoder(wordpiece, max_length=48, stride=8, max_context_tokens=8)
    engine = Engine(_sum_runner, encoder, max_tokens=256, chunk_size=7)
    results = list(engine.run(Request(t, None, k) for k, t in enumerate(texts)))
    assert [r.request.tag for r in results] == list(range(60))
    for r, text in zip(results, texts, strict=True):
        (expected,) = encoder.encode([text], [None])
        assert r.logits[:, 0].tolist() == [float(sum(w.ids)) for w in expected]


def test_engine_raises_errors_from_the_request_stream(wordpiece: Any) -> None:
    encoder = Encoder(wordpiece, max_length=48, stride=8, max_context_tokens=8)
    engine = Engine(_sum_runner, encoder, chunk_size=2)

    def broken() -> Iterator[Request]:
        yield Request("cuaca cerah")
        raise RuntimeError("bad row")

    with pytest.raises(RuntimeError, match="bad row"):
        list(engine.run(broken()))


def test_prepare_maps_normalised_text_back_to_the_original() -> None:
    text = "Pak camat   ajak warga2 coblos 02 ✌️ https://x.id/a"
    prepared = prepare(text)
    start = prepared.text.index("coblos")
    s, e = prepared.to_original(start, start + len("coblos"))
    assert text[s:e] == "coblos"
    s, e = prepared.to_original(0, len(prepared.text))
    assert (s, e) == (0, len(text))


def _word_tokenizer(words: list[str]) -> Any:
    """A WordPiece tokenizer over exactly ``words`` (plus specials), with BERT's pair
    template: every token of a test text is known in advance."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    return tok


def test_span_labels_follow_rationale_offsets_through_normalisation() -> None:
    # "Pak" is normalised to "bapak" and "02" to "2": labels must still land on them
    text = "Cuaca cerah. Pak Camat ajak warga coblos 02."
    spans = [
        Rationale(13, 22, "actor", "Pak Camat"),
        Rationale(23, 40, "act", "ajak warga coblos"),
        Rationale(41, 43, "target", "02"),
    ]
    for r in spans:
        assert text[r.start : r.end] == r.text
    words = ["cuaca", "cerah", "bapak", "cam", "##at", "ajak", "warga", "coblos", "2", "guru"]
    tok = _word_tokenizer(words)
    prepared = prepare(text, "guru")
    (windows,) = Encoder(tok, max_length=32, stride=0, max_context_tokens=4).encode(
        [prepared.text], [prepared.context]
    )
    (window,) = windows
    tokens = [tok.id_to_token(i) for i in window.ids]
    tags = [SPAN_TAGS[t] if t != IGNORE else None for t in span_labels(prepared, spans, window)]
    assert list(zip(tokens, tags, strict=True)) == [
        ("[CLS]", None),
        ("cuaca", "none"),
        ("cerah", "none"),
        ("bapak", "actor"),
        ("cam", "actor"),
        ("##at", "actor"),  # a word piece takes its word's role
        ("ajak", "act"),
        ("warga", "act"),
        ("coblos", "act"),
        ("2", "target"),
        ("[SEP]", None),
        ("guru", None),  # the author context carries no span loss
        ("[SEP]", None),
    ]


def test_items_without_rationales_carry_no_span_labels() -> None:
    tok = _word_tokenizer(["camat", "ajak", "warga"])
    prepared = prepare("Camat ajak warga")
    (windows,) = Encoder(tok, max_length=16, stride=0, max_context_tokens=4).encode(
        [prepared.text], [None]
    )
    for unannotated in (None, []):
        assert span_labels(prepared, unannotated, windows[0]) == [IGNORE] * len(windows[0].ids)


def test_baseline_path_never_imports_torch(tmp_path: Path) -> None:
    script = f"""
import sys
import numpy as np
import netral_nlp, netral_nlp.cli
from typer.testing import CliRunner
assert CliRunner().invoke(netral_nlp.cli.app, ["--help"]).exit_code == 0
import netral_nlp.engine, netral_nlp.transformer, netral_nlp.transformer_train, netral_nlp.onnx_export
from types import SimpleNamespace
from netral_nlp.baseline import BaselineConfig
from netral_nlp.features import FeatureConfig
from netral_nlp.model import load_model
from netral_nlp.train import fit_baseline
items = [
    SimpleNamespace(text="camat ajak warga coblos nomor dua", flag=True, categories=["ajakan_dukungan"]),
    SimpleNamespace(text="harga cabai naik", flag=False, categories=[]),
    SimpleNamespace(text="lurah pakai mobil dinas", flag=True, categories=["penyalahgunaan_jabatan"]),
    SimpleNamespace(text="hujan", flag=False, categories=[]),
] * 3
config = BaselineConfig(features=FeatureConfig(), calibration_folds=2)
fit_baseline(items, config, name="t").save({str(tmp_path / "baseline")!r})
load_model({str(tmp_path / "baseline")!r}).predict(["camat ajak coblos"])
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"torch", "transformers", "onnxruntime", "datasets"}})
print(heavy)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- a fine-tuned tiny BERT


def _scores(predictions: list[Any]) -> np.ndarray:
    return np.array([[p.score, *p.category_scores.values()] for p in predictions])


@pytest.mark.torch
def test_fine_tuning_lowers_the_loss_and_beats_chance(tiny_transformer: dict[str, Any]) -> None:
    training = tiny_transformer["metrics"]["training"]
    assert training["train_loss_last"] < training["train_loss_first"]
    assert training["dev_loss_after"] < training["dev_loss_before"]
    dev = tiny_transformer["metrics"]["dev"]
    prevalence = dev["flag"]["support"] / dev["n"]
    assert dev["flag"]["pr_auc"] > prevalence + 0.2
    assert dev["flag"]["f1"] > 2 * prevalence / (1 + prevalence) + 0.1  # F1 of flagging everything


@pytest.fixture(scope="module")
def span_batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A fresh tiny BERT with a span head and one collated batch of 8 synthetic items,
    half of them with rationales."""
    pytest.importorskip("torch")
    from tokenizers import Tokenizer

    from netral_nlp.data import read_annotations
    from netral_nlp.transformer import new_span_head
    from netral_nlp.transformer_train import _collate, _encode_items, _load_base

    work = tmp_path_factory.mktemp("span")
    items = read_annotations(write_corpus(work / "items.jsonl", n_train=40, n_dev=2, n_test=0))
    with_spans = [i for i in items if i.rationales][:4]
    without = [i for i in items if not i.rationales][:4]
    base = build_tiny_bert(work / "base", [i.text for i in items])
    _, model = _load_base(str(base), True)
    model.span_head = new_span_head(model.config.hidden_size)
    encoder = Encoder(Tokenizer.from_file(str(base / "tokenizer.json")), 64, 16, 16)
    data = _encode_items(with_spans + without, encoder)
    return {"model": model, "batch": _collate(list(data)), "data": data}


def _loss(model: Any, batch: dict[str, Any], span_weight: float, tags: Any = None) -> Any:
    import torch

    from netral_nlp.transformer_train import item_loss

    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    tags = batch["span_labels"] if tags is None else tags
    loss, _ = item_loss(
        model, inputs, batch["window_item"], batch["labels"], tags,
        torch.nn.BCEWithLogitsLoss(), span_weight,
    )  # fmt: skip
    return loss


@pytest.mark.torch
def test_span_loss_is_finite_and_the_span_head_learns(span_batch: dict[str, Any]) -> None:
    import copy

    import torch

    torch.manual_seed(0)
    model, batch = copy.deepcopy(span_batch["model"]), span_batch["batch"]
    labelled = batch["span_labels"] != IGNORE
    owners = batch["window_item"]
    assert labelled[owners < 4].any() and not labelled[owners >= 4].any()  # masked items
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    span_losses = []
    for _ in range(8):
        total = _loss(model, batch, 1.0)
        span_losses.append(float(total.detach() - _loss(model, batch, 0.0).detach()))
        assert torch.isfinite(total)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    assert span_losses[0] > 0
    assert span_losses[-1] < 0.5 * span_losses[0], span_losses


@pytest.mark.torch
def test_masked_span_labels_add_no_loss(span_batch: dict[str, Any]) -> None:
    import torch

    model, batch = span_batch["model"].eval(), span_batch["batch"]
    masked = torch.full_like(batch["span_labels"], IGNORE)
    with torch.no_grad():
        plain = _loss(model, batch, 0.0)
        assert float(_loss(model, batch, 0.5, masked)) == float(plain)
        assert float(_loss(model, batch, 0.5)) > float(plain)


@pytest.mark.torch
def test_saved_model_is_self_describing_and_safe(tiny_transformer: dict[str, Any]) -> None:
    directory: Path = tiny_transformer["dir"]
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["kind"] == "transformer"
    assert set(manifest["thresholds"]) == set(HEADS)
    assert manifest["config"]["windows"] == {
        "max_length": 64,
        "stride": 16,
        "max_context_tokens": 16,
    }
    assert {
        "model.safetensors",
        "span_head.safetensors",
        "tokenizer.json",
        "README.md",
        "train_config.json",
    } <= set(manifest["files"])
    assert manifest["config"]["span_head"]["tags"] == list(SPAN_TAGS)
    assert not [p for p in directory.rglob("*") if p.suffix in (".bin", ".pt", ".pkl", ".py")]
    # the span head is not hidden inside the encoder's weights
    from safetensors import safe_open

    with safe_open(str(directory / "model.safetensors"), framework="pt") as fh:
        assert not [k for k in fh.keys() if k.startswith("span_head.")]


@pytest.mark.torch
def test_manifest_holds_the_baselines_figures(tiny_transformer: dict[str, Any]) -> None:
    from netral_nlp.cli import _threshold_for_precision

    metrics = json.loads((tiny_transformer["dir"] / "manifest.json").read_text())["metrics"]
    assert metrics["dev_curve"] and metrics["operating_point"]["expected_precision"]
    overlap = metrics["test"]["evidence_overlap"]
    assert overlap["true_positives"] > 0 and overlap["rate"] > 0.5, overlap
    strict = _threshold_for_precision(tiny_transformer["dir"], 0.9)
    assert strict >= _threshold_for_precision(tiny_transformer["dir"], 0.0)


def _evidence(predictions: list[Any]) -> list[list[tuple[int, int, str]]]:
    return [[(s.start, s.end, s.kind) for s in p.spans] for p in predictions]


@pytest.mark.torch
def test_reloaded_model_gives_identical_scores_and_evidence(
    tiny_transformer: dict[str, Any],
) -> None:
    items = [i for i in tiny_transformer["items"] if i.split == "test"]
    texts, contexts = [i.text for i in items], [i.author_context for i in items]
    reference = tiny_transformer["clf"].predict(texts, contexts)
    loaded = load_model(tiny_transformer["dir"], runtime="torch")
    assert loaded.model.span_head is not None
    got = loaded.predict(texts, contexts)
    np.testing.assert_allclose(_scores(got), _scores(reference), rtol=0, atol=1e-6)
    assert _evidence(got) == _evidence(reference)
    kinds = {s.kind for p in got for s in p.spans}
    assert {"actor_act", "asn_role", "partisan_act"} <= kinds


@pytest.mark.torch
def test_span_evidence_is_the_act_sentence_with_its_actor_and_act(
    tiny_transformer: dict[str, Any],
) -> None:
    text = f"{FILLER[0]} Camat mengajak warga coblos nomor dua. {FILLER[7]}"
    (pred,) = tiny_transformer["clf"].predict([text])
    top, *inside = pred.spans
    assert top.kind == "actor_act" and top.text == "Camat mengajak warga coblos nomor dua."
    assert pred.evidence == [top.text]
    assert ("asn_role", "Camat") in {(s.kind, s.text) for s in inside}
    assert any(s.kind == "partisan_act" and "coblos" in s.text for s in inside)
    for s in inside:
        assert top.start <= s.start < s.end <= top.end and text[s.start : s.end] == s.text


@pytest.mark.torch
def test_without_a_span_head_the_evidence_is_the_best_sentence(
    tiny_transformer: dict[str, Any],
) -> None:
    text = f"{FILLER[0]} Camat mengajak warga coblos nomor dua. {FILLER[7]}"
    loaded = load_model(tiny_transformer["dir"], runtime="torch")
    del loaded.model.span_head
    (pred,) = loaded.predict([text])
    assert pred.flag and [s.kind for s in pred.spans] == ["sentence"] * len(pred.spans)
    assert pred.evidence[0] == "Camat mengajak warga coblos nomor dua."


@pytest.mark.torch
def test_one_by_one_equals_a_mixed_length_batch(tiny_transformer: dict[str, Any]) -> None:
    rng = random.Random(3)
    texts = [
        incident(rng, "ajakan_dukungan"),
        "halo",
        " ".join(FILLER * 3),
        FILLER[0] + " " + incident(rng, "keterlibatan_parpol"),
    ]
    texts += [" ".join(rng.choices(FILLER, k=rng.randint(1, 6))) for _ in range(12)]
    contexts = [rng.choice([None, "guru PNS di SDN 3"]) for _ in texts]
    clf = tiny_transformer["clf"]
    batch = _scores(clf.predict(texts, contexts))
    single = np.vstack(
        [_scores(clf.predict([t], [c])) for t, c in zip(texts, contexts, strict=True)]
    )
    np.testing.assert_allclose(batch, single, rtol=0, atol=1e-5)


@pytest.mark.torch
def test_long_article_is_scored_through_windows_with_the_incident_as_evidence(
    tiny_transformer: dict[str, Any],
) -> None:
    rng = random.Random(11)
    sentences = []
    while sum(len(s.split()) for s in sentences) < 3000:
        sentences.append(rng.choice(FILLER))
    before = " ".join(sentences[: len(sentences) * 3 // 5]) + "\n\n"
    paragraph = (
        "Dalam acara itu, "
        + incident(rng, "penyalahgunaan_jabatan")
        + " "
        + incident(rng, "ajakan_dukungan")
    )
    article = before + paragraph + "\n\n" + " ".join(sentences[len(sentences) * 3 // 5 :])
    start, end = len(before), len(before) + len(paragraph)
    clf = tiny_transformer["clf"]
    (windows,) = clf.engine.encoder.encode([prepare(article).text], [None])
    assert len(windows) > 20
    (pred,) = clf.predict([article])
    assert pred.flag
    assert pred.evidence and pred.evidence[0] in paragraph
    assert start <= pred.spans[0].start < pred.spans[0].end <= end
    assert article[pred.spans[0].start : pred.spans[0].end] == pred.evidence[0]


@pytest.mark.torch
def test_onnx_export_agrees_with_torch(tiny_transformer: dict[str, Any], tmp_path: Path) -> None:
    from netral_nlp.onnx_export import export_onnx

    directory = tmp_path / "model"
    shutil.copytree(tiny_transformer["dir"], directory)
    items = tiny_transformer["items"]
    texts, contexts = [i.text for i in items], [i.author_context for i in items]
    reference = tiny_transformer["clf"].predict(texts, contexts)

    assert [p.name for p in export_onnx(directory)] == ["model.onnx"]
    fp32 = load_model(directory, runtime="onnx")
    assert fp32.engine.runner.outputs == ["logits", "span_logits"]
    got = fp32.predict(texts, contexts)
    np.testing.assert_allclose(_scores(got), _scores(reference), rtol=0, atol=1e-4)
    same = np.mean([a == b for a, b in zip(_evidence(got), _evidence(reference), strict=True)])
    assert same >= 0.98, same

    assert [p.name for p in export_onnx(directory, int8=True)] == ["model.onnx", "model.int8.onnx"]
    int8 = load_model(directory, runtime="auto")  # no GPU: auto runs the int8 export
    assert type(int8.engine.runner).__name__ == "OnnxRunner"
    agree = np.mean(
        [a.flag == b.flag for a, b in zip(int8.predict(texts, contexts), reference, strict=True)]
    )
    assert agree >= 0.99, agree


@pytest.mark.torch
def test_unsafe_or_altered_model_files_are_refused(
    tiny_transformer: dict[str, Any], tmp_path: Path
) -> None:
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_transformer["dir"], pickled)
    (pickled / "pytorch_model.bin").write_bytes(b"not really")
    with pytest.raises(ModelLoadError, match=r"\.bin"):
        load_model(pickled)
    altered = tmp_path / "altered"
    shutil.copytree(tiny_transformer["dir"], altered)
    with (altered / "model.safetensors").open("r+b") as fh:
        fh.truncate(1000)
    with pytest.raises(ModelLoadError, match="sha256"):
        load_model(altered)
    head = tmp_path / "head"
    shutil.copytree(tiny_transformer["dir"], head)
    with (head / "span_head.safetensors").open("r+b") as fh:
        fh.truncate(100)
    with pytest.raises(ModelLoadError, match="sha256"):
        load_model(head)
    unlisted = tmp_path / "unlisted"
    shutil.copytree(tiny_transformer["dir"], unlisted)
    manifest = json.loads((unlisted / "manifest.json").read_text())
    del manifest["files"]["span_head.safetensors"]
    (unlisted / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match=r"span_head\.safetensors"):
        load_model(unlisted, runtime="torch")


# --------------------------------------------------------------------------- the base checkpoint


def test_missing_weights_fail_fast_with_one_clear_message(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus" / "items.jsonl", n_train=4, n_dev=2, n_test=0)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    command = [
        sys.executable, "-m", "netral_nlp.cli", "train", "--kind", "transformer",
        "--base", "indobenchmark/indobert-base-p1", "--data", str(corpus.parent), "--out", str(tmp_path / "m"),
    ]  # fmt: skip
    started = time.monotonic()
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    assert time.monotonic() - started < 20
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot load the base model")
    assert "--base models/base/indobert-base-p1" in lines[0] and "HF_HUB_OFFLINE=1" in lines[0]
    assert not (tmp_path / "m").exists()


def test_unreachable_hub_and_bad_local_paths_fail_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants as hub

    from netral_nlp.transformer_train import MissingBaseError, resolve_base

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "cache"))
    started = time.monotonic()
    with pytest.raises(MissingBaseError, match=r"cannot be reached.*--base"):
        resolve_base("indobenchmark/indobert-base-p1")
    assert time.monotonic() - started < 12
    with pytest.raises(MissingBaseError, match="no such directory"):
        resolve_base(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(MissingBaseError, match=r"no model\.safetensors"):
        resolve_base(str(tmp_path / "empty"))


def test_train_config_checks_its_values() -> None:
    from netral_nlp.transformer_train import TransformerTrainConfig

    assert TransformerTrainConfig(max_length=128).stride == 32
    with pytest.raises(ValueError, match="max_length"):
        TransformerTrainConfig(max_length=1024)
    with pytest.raises(ValueError, match="stride"):
        TransformerTrainConfig(max_length=128, stride=100)
    with pytest.raises(ValueError, match="span_loss_weight"):
        TransformerTrainConfig(span_loss_weight=-0.1)
