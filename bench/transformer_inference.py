"""Throughput of transformer scoring: transformers.pipeline against the netral engine.

A randomly initialised model of IndoBERT-base size (12 layers, hidden 768, vocab 50,000;
speed does not depend on the weights) scores one mixed-length feed, lengths drawn like
real posts and news (many short, a long tail), three ways:

- pipeline: ``transformers.pipeline("text-classification", batch_size=32)`` as a user
  would write it (long texts truncated to 512 tokens);
- engine: the netral engine on torch (fp32 on CPU, bf16 autocast on CUDA), long texts
  covered by overlapping 256-token windows;
- onnx_int8: the same engine on the dynamic-int8 ONNX export (the CPU path: left out
  when a GPU is present).

Each runs in a fresh process (after a short warm-up) so its peak memory is its own. The
last line holds the figures as key=value pairs.

    .venv/bin/python bench/transformer_inference.py            # n=160: ~4 minutes on 2 cores
    .venv/bin/python bench/transformer_inference.py --n 20000  # on a GPU
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

VOCAB = 50_000
HIDDEN, LAYERS, HEADS, FFN = 768, 12, 12, 3072
SYLLABLES = [c + v for c in "bcdghjklmnprstwy" for v in "aiueo"] + "ng an in un ah ak".split()


def make_feed(n: int, seed: int) -> list[str]:
    """``n`` texts: 85% posts (~25 words), 15% news (~450 words, up to 2,000)."""
    rng = random.Random(seed)
    words = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(1, 4))) for _ in range(40_000)})
    weights = [1 / (rank + 10) for rank in range(len(words))]  # Zipf-like word frequencies
    feed = []
    for _ in range(n):
        if rng.random() < 0.85:
            length = min(max(int(rng.lognormvariate(3.0, 0.6)), 3), 120)
        else:
            length = min(max(int(rng.lognormvariate(6.0, 0.5)), 150), 2000)
        feed.append(" ".join(rng.choices(words, weights, k=length)))
    return feed


def build_model(directory: Path, feed: list[str], seed: int) -> None:
    """A random IndoBERT-size model saved as a netral model directory."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    from netral_nlp.engine import TorchRunner
    from netral_nlp.manifest import Manifest
    from netral_nlp.prediction import HEADS as LABELS
    from netral_nlp.text import PREPROCESS_VERSION
    from netral_nlp.transformer import TransformerClassifier, WindowConfig

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = sorted({w for text in feed for w in text.split()})
    chars = sorted({c for w in words for c in w})
    vocab = (special + chars + [f"##{c}" for c in chars] + words)[:VOCAB]
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=512,
    )  # fmt: skip
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
        intermediate_size=FFN, max_position_embeddings=512, num_labels=len(LABELS),
        problem_type="multi_label_classification",
    )  # fmt: skip
    model = BertForSequenceClassification(config).eval()
    with tempfile.TemporaryDirectory() as tmp:
        hf_tok.save_pretrained(tmp)
        files = {p.name: p.read_bytes() for p in Path(tmp).iterdir()}
    manifest = Manifest(
        name="bench-random-indobert-size", version="0", kind="transformer",
        preprocess_version=PREPROCESS_VERSION, thresholds=dict.fromkeys(LABELS, 0.5),
        config={"base": "random", "windows": asdict(WindowConfig())},
    )  # fmt: skip
    TransformerClassifier(manifest, TorchRunner(model, "cpu"), files, model=model).save(directory)


# --------------------------------------------------------------------------- one path per process


def _peak_rss_mib() -> float:
    """This process's peak resident memory. VmHWM, unlike ru_maxrss, does not carry over
    the parent's peak through fork + exec."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_memory(torch: Any) -> dict[str, float]:
    out = {"peak_rss_mib": _peak_rss_mib()}
    if torch is not None and torch.cuda.is_available():
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def run_pipeline(directory: str, feed: list[str], warmup: int) -> dict[str, Any]:
    import torch
    from transformers import pipeline

    device = 0 if torch.cuda.is_available() else -1
    pipe = pipeline(
        "text-classification", model=directory, tokenizer=directory, device=device,
        batch_size=32, truncation=True, top_k=None, function_to_apply="sigmoid",
    )  # fmt: skip
    pipe(feed[:warmup])
    tokens = sum(len(ids) for ids in pipe.tokenizer(feed, truncation=True)["input_ids"])
    start = time.perf_counter()
    out = pipe(feed)
    seconds = time.perf_counter() - start
    assert len(out) == len(feed)
    return {"seconds": seconds, "tokens": tokens, "windows": len(feed), **_peak_memory(torch)}


def run_engine(directory: str, feed: list[str], warmup: int, runtime: str) -> dict[str, Any]:
    from netral_nlp.engine import Request
    from netral_nlp.model import load_model

    clf = load_model(directory, runtime=runtime)
    engine = clf.engine
    list(engine.run(Request(t) for t in feed[:warmup]))
    start = time.perf_counter()
    results = list(engine.run(Request(t) for t in feed))
    seconds = time.perf_counter() - start
    assert len(results) == len(feed)
    lengths = [len(w.ids) for item in engine.encoder.encode(feed, [None] * len(feed)) for w in item]
    torch = sys.modules.get("torch")
    return {
        "seconds": seconds,
        "tokens": sum(lengths),
        "windows": len(lengths),
        "lengths": lengths,
        **_peak_memory(torch),
    }


def _in_fresh_process(fn: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args).result()


# --------------------------------------------------------------------------- report


def _flops(lengths: list[int]) -> float:
    """Forward FLOPs of BERT-base over windows of these lengths: 2 x (non-embedding
    parameters) per token plus the attention matmuls (4 x layers x T^2 x hidden)."""
    # 2 x (4 d^2 attention + 2 d x ffn) per layer: ~170 MFLOP a token, 11 GFLOP at T=64
    per_token = 2 * LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)
    return sum(per_token * t + 4 * LAYERS * t * t * HIDDEN for t in lengths)


def _machine(cuda: bool) -> str:
    if cuda:
        import torch

        return torch.cuda.get_device_name(0)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.machine()}, {os.cpu_count()} CPUs, no GPU, load average {load}"


def report(
    runs: dict[str, dict[str, Any]], feed: list[str], cuda: bool, peak_tflops: float
) -> None:
    """Print the table, then the key=value line."""
    import torch

    lengths = runs["engine"].pop("lengths")
    runs.get("onnx_int8", {}).pop("lengths", None)
    words = [len(t.split()) for t in feed]
    print(
        f"\nfeed: {len(feed)} texts, {sum(words) / len(words):.0f} words a text on average, max {max(words)}"
    )
    print(f"machine: {_machine(cuda)}; torch threads {torch.get_num_threads()}")
    print(f"{'path':<10} {'seq/s':>8} {'tokens/s':>10} {'windows':>8} {'peak RSS MiB':>13}")
    figures: dict[str, Any] = {"n": len(feed)}
    for name, r in runs.items():
        seq_s = len(feed) / r["seconds"]
        figures[f"{name}_seq_s"] = round(seq_s, 2)
        figures[f"{name}_peak_rss_mib"] = round(r["peak_rss_mib"])
        if "peak_cuda_mib" in r:
            figures[f"{name}_peak_cuda_mib"] = round(r["peak_cuda_mib"])
        tokens_s = r["tokens"] / r["seconds"]
        print(
            f"{name:<10} {seq_s:>8.2f} {tokens_s:>10.0f} {r['windows']:>8} {r['peak_rss_mib']:>13.0f}"
        )
    base = figures["pipeline_seq_s"]
    figures["engine_vs_pipeline"] = round(figures["engine_seq_s"] / base, 2)
    # the ONNX path is the CPU one: against a GPU pipeline its ratio means nothing
    onnx = figures.get("onnx_int8_seq_s")
    figures["onnx_int8_vs_pipeline"] = round(onnx / base, 2) if onnx and not cuda else "na"
    figures["mean_window_tokens"] = round(sum(lengths) / len(lengths), 1)
    if cuda:
        achieved = _flops(lengths) / runs["engine"]["seconds"]
        figures["engine_tflops"] = round(achieved / 1e12, 1)
        figures["engine_mfu"] = round(achieved / (peak_tflops * 1e12), 3)
    figures["device"] = "cuda" if cuda else "cpu"
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=160, help="texts in the feed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=16, help="texts scored before timing")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "_work" / "transformer")
    parser.add_argument("--skip-onnx", action="store_true", help="leave out the ONNX int8 path")
    parser.add_argument("--peak-tflops", type=float, default=790.0, help="GPU bf16 peak, for MFU")
    args = parser.parse_args()

    import torch

    cuda = torch.cuda.is_available()
    feed = make_feed(args.n, args.seed)
    directory = args.work / "model"
    shutil.rmtree(args.work, ignore_errors=True)
    started = time.perf_counter()
    build_model(directory, feed, args.seed)
    print(
        f"built a random IndoBERT-size model in {time.perf_counter() - started:.0f} s", flush=True
    )
    runs = {"pipeline": _in_fresh_process(run_pipeline, str(directory), feed, args.warmup)}
    print(f"pipeline: {runs['pipeline']['seconds']:.1f} s", flush=True)
    runs["engine"] = _in_fresh_process(run_engine, str(directory), feed, args.warmup, "torch")
    print(f"engine: {runs['engine']['seconds']:.1f} s", flush=True)
    if not (args.skip_onnx or cuda):
        from netral_nlp.onnx_export import export_onnx

        started = time.perf_counter()
        export_onnx(directory, int8=True)
        print(f"exported ONNX fp32 + int8 in {time.perf_counter() - started:.0f} s", flush=True)
        runs["onnx_int8"] = _in_fresh_process(run_engine, str(directory), feed, args.warmup, "onnx")
        print(f"onnx_int8: {runs['onnx_int8']['seconds']:.1f} s", flush=True)
    report(runs, feed, cuda, args.peak_tflops)


if __name__ == "__main__":
    main()
