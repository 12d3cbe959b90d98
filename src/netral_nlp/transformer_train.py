"""Fine-tune a BERT-family checkpoint (IndoBERT by default) into a TransformerClassifier.

The transformers Trainer does the loop: items of the corpus (a ``datasets.Dataset``) are
cut into the same overlapping windows as at inference, a batch holds every window of its
items, and the loss is class-weighted BCE on each item's max-over-windows logits, so
training sees what scoring sees. Early stopping on dev macro-F1, thresholds tuned on dev
per head, fixed seeds, bf16 (or fp16) on CUDA only.

The base checkpoint is checked first, before torch is imported: a hub id that cannot be
fetched fails within seconds with one message saying how to use a local directory.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .engine import CPU_MAX_TOKENS, CUDA_MAX_TOKENS, Encoder, TorchRunner, Window, pad_batch
from .manifest import Manifest, ModelLoadError, check_model_destination
from .prediction import HEADS, sigmoid
from .text import PREPROCESS_VERSION
from .train import (
    TrainConfig,
    choose_thresholds,
    held_out_metrics,
    items_by_split,
    label_matrix,
)
from .transformer import (
    IGNORE,
    SPAN_HEAD_FILE,
    SPAN_TAGS,
    TOKENIZER_FILE,
    TOKENIZER_FILES,
    TransformerClassifier,
    WindowConfig,
    new_span_head,
    prepare,
    quiet_loading,
    span_labels,
)

log = logging.getLogger(__name__)

DEFAULT_BASE = "indobenchmark/indobert-base-p1"
HUB_TIMEOUT_S = 10.0
TRAIN_CONFIG_FILE = "train_config.json"
TRAINING_LOG_FILE = "training_log.json"


class MissingBaseError(ModelLoadError):
    """The base checkpoint is neither a usable local directory nor obtainable from the Hub."""


@dataclass
class TransformerTrainConfig(TrainConfig):
    """Settings of a transformer fine-tuning run (TrainConfig's plus these)."""

    out: Path = field(
        default=Path("models/netral-indobert"), metadata={"help": "output model directory"}
    )
    base: str = field(
        default=DEFAULT_BASE,
        metadata={
            "help": "hub id or local directory of a BERT-family checkpoint; indolem/indobertweet-base-uncased suits tweets"
        },
    )
    epochs: float = field(
        default=5.0, metadata={"help": "maximum training epochs (published: 3 to 10)"}
    )
    learning_rate: float = field(
        default=3e-5, metadata={"help": "peak learning rate (published: 1e-5 to 5e-5)"}
    )
    batch_size: int = field(
        default=16, metadata={"help": "items per device step, each with all its windows"}
    )
    eval_batch_size: int = field(default=32, metadata={"help": "items per evaluation step"})
    grad_accum: int = field(
        default=1, metadata={"help": "steps whose gradients are summed before an update"}
    )
    max_length: int = field(
        default=WindowConfig.max_length,
        metadata={"help": "tokens per window (published: 128 to 256 for posts)"},
    )
    stride: int | None = field(
        default=None,
        metadata={"help": "tokens shared by consecutive windows (default max_length // 4)"},
    )
    max_context_tokens: int | None = field(
        default=None, metadata={"help": "author-context tokens kept (default max_length // 4)"}
    )
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup: float = field(
        default=0.1, metadata={"help": "share of steps spent warming the learning rate up"}
    )
    patience: int = field(
        default=2, metadata={"help": "evaluations without a better dev macro-F1 before stopping"}
    )
    max_pos_weight: float = field(
        default=10.0,
        metadata={"help": "cap on a head's positive-class weight (negatives / positives)"},
    )
    log_steps: int = field(
        default=20, metadata={"help": "optimizer steps between training-loss log lines"}
    )
    span_loss_weight: float = field(
        default=0.5,
        metadata={
            "help": "weight of the token-level rationale span loss added to the label loss; "
            "0 trains no span head"
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 16 <= self.max_length <= 512:
            raise ValueError(f"max_length must be in 16..512, not {self.max_length}")
        quarter = self.max_length // 4
        self.stride = quarter if self.stride is None else self.stride
        self.max_context_tokens = (
            quarter if self.max_context_tokens is None else self.max_context_tokens
        )
        if not 0 <= self.stride <= quarter or not 1 <= self.max_context_tokens <= quarter:
            raise ValueError(
                f"stride and max_context_tokens must be at most max_length // 4 = {quarter}"
            )
        for name in (
            "epochs",
            "learning_rate",
            "batch_size",
            "eval_batch_size",
            "grad_accum",
            "patience",
            "log_steps",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")
        if not 0 <= self.warmup < 1 or self.max_pos_weight < 1:
            raise ValueError("warmup must be in [0, 1) and max_pos_weight at least 1")
        if self.span_loss_weight < 0:
            raise ValueError(f"span_loss_weight must be at least 0, not {self.span_loss_weight}")

    @property
    def windows(self) -> WindowConfig:
        return WindowConfig(self.max_length, self.stride, self.max_context_tokens)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the base checkpoint


def _message(base: str, reason: str) -> str:
    local = f"models/base/{base.rstrip('/').split('/')[-1]}"
    return (
        f"cannot load the base model {base!r}: {reason}. Fetch it once where there is network, "
        f"e.g. `hf download {base} --local-dir {local}`, copy that directory here and pass "
        f"`--base {local}`. HF_HUB_OFFLINE=1 is respected: with it only local directories and "
        "the local Hugging Face cache are used."
    )


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _looks_like_path(base: str) -> bool:
    return base.startswith(("/", ".", "~")) or "\\" in base or base.count("/") > 1


def _check_local_base(path: Path) -> None:
    if not (path / "config.json").is_file():
        raise MissingBaseError(_message(str(path), "the directory has no config.json"))
    # .bin is accepted for the base only (transformers reads it with torch.load(weights_only=
    # True), as some published checkpoints have nothing else; fine-tuned models are saved
    # and loaded as safetensors only.
    weights = (
        "model.safetensors",
        "model.safetensors.index.json",
        "pytorch_model.bin",
        "pytorch_model.bin.index.json",
    )
    if not any((path / w).is_file() for w in weights):
        raise MissingBaseError(
            _message(str(path), "the directory has no model.safetensors weights")
        )
    if not any((path / t).is_file() for t in (TOKENIZER_FILE, "vocab.txt")):
        raise MissingBaseError(
            _message(str(path), "the directory has no tokenizer.json or vocab.txt")
        )


def _probe_hub(base: str) -> str | None:
    """None when the Hub has ``base``, else why not; never waits more than HUB_TIMEOUT_S."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    answer: list[str | None] = []

    def probe() -> None:
        try:
            HfApi().model_info(base, timeout=HUB_TIMEOUT_S)
            answer.append(None)
        except GatedRepoError:
            answer.append(
                "it is gated: accept its licence on the Hub and log in with `hf auth login`"
            )
        except RepositoryNotFoundError:
            answer.append("the Hugging Face Hub has no such model (or it is private)")
        except Exception as exc:  # no network, DNS failure, proxy, TLS: all mean unreachable
            answer.append(f"the Hugging Face Hub cannot be reached ({type(exc).__name__}: {exc})")

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(HUB_TIMEOUT_S + 1)
    return (
        answer[0] if answer else f"the Hugging Face Hub did not answer within {HUB_TIMEOUT_S:g} s"
    )


def resolve_base(base: str) -> tuple[str, bool]:
    """Where to load the base checkpoint from, and whether to use local files only.

    A local directory is checked for a config, weights and a tokenizer. A hub id is looked
    up in the local cache, and unless HF_HUB_OFFLINE is set, on the Hub. Raises
    MissingBaseError (one line, with the fix) instead of hanging on retries.
    """
    path = Path(base).expanduser()
    if path.is_dir():
        _check_local_base(path)
        return str(path), True
    if path.exists() or _looks_like_path(base):
        raise MissingBaseError(_message(base, "no such directory"))
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = isinstance(try_to_load_from_cache(base, "config.json"), str)
    except ValueError:  # HFValidationError: not a valid hub id either
        raise MissingBaseError(_message(base, "neither a directory nor a valid hub id")) from None
    if _offline():
        if cached:
            return base, True
        raise MissingBaseError(
            _message(base, "HF_HUB_OFFLINE is set and it is not in the local Hugging Face cache")
        )
    problem = _probe_hub(base)
    if problem is None:
        return base, False
    if cached:
        log.warning("%s; using the copy in the local Hugging Face cache", problem)
        return base, True
    raise MissingBaseError(_message(base, problem))


# --------------------------------------------------------------------------- data


def _encode_items(items: Sequence[Any], encoder: Encoder) -> Any:
    """A datasets.Dataset with, per item, its windows (ids, type ids, span labels: one
    SPAN_TAGS id or IGNORE per token) and 0/1 label row."""
    import datasets

    prepared = [prepare(it.text, it.author_context) for it in items]
    windows = encoder.encode([p.text for p in prepared], [p.context for p in prepared])
    spans = [
        [span_labels(p, getattr(it, "rationales", None), w) for w in ws]
        for it, p, ws in zip(items, prepared, windows, strict=True)
    ]
    return datasets.Dataset.from_dict(
        {
            "id": [it.id for it in items],
            "input_ids": [[w.ids for w in ws] for ws in windows],
            "token_type_ids": [[w.type_ids for w in ws] for ws in windows],
            "span_labels": spans,
            "labels": label_matrix(items).astype(np.float32).tolist(),
        }
    )


def _collate(features: list[dict[str, Any]]) -> dict[str, Any]:
    """Every window of every item, padded to a multiple of 8; ``window_item`` says whose,
    ``span_labels`` (windows, length) each token's span tag (IGNORE where padded)."""
    import torch

    windows, owner, tags = [], [], []
    for k, f in enumerate(features):
        for ids, types, t in zip(
            f["input_ids"], f["token_type_ids"], f["span_labels"], strict=True
        ):
            windows.append(Window(ids, types, (0, 0)))
            owner.append(k)
            tags.append(t)
    ids, mask, types = pad_batch(windows)
    span = np.full(ids.shape, IGNORE, dtype=np.int64)
    for row, t in enumerate(tags):
        span[row, : len(t)] = t
    return {
        "input_ids": torch.from_numpy(ids),
        "attention_mask": torch.from_numpy(mask),
        "token_type_ids": torch.from_numpy(types),
        "window_item": torch.tensor(owner),
        "span_labels": torch.from_numpy(span),
        "labels": torch.tensor([f["labels"] for f in features], dtype=torch.float32),
    }


def _pos_weight(labels: np.ndarray, cap: float) -> np.ndarray:
    """Per-head positive weight negatives/positives, in [1, cap] (1 for an absent class)."""
    pos = labels.sum(axis=0)
    neg = len(labels) - pos
    return np.clip(np.where(pos > 0, neg / np.maximum(pos, 1), 1.0), 1.0, cap)


def _best_f1(y: np.ndarray, s: np.ndarray) -> float:
    """The highest F1 of ``s >= t`` over thresholds t, which is the F1 at
    evaluate.best_threshold, in O(n log n): the early-stopping metric runs every epoch."""
    positives = y.sum()
    if positives == 0:
        return 0.0
    order = np.argsort(-s, kind="stable")
    ranked = s[order]
    tp = np.cumsum(y[order])
    predicted = np.arange(1, len(y) + 1)
    cut = np.r_[ranked[1:] != ranked[:-1], True]  # tied scores fall on the same side
    return float((2 * tp / (predicted + positives))[cut].max())


def _macro_f1(gold: np.ndarray, probs: np.ndarray) -> tuple[float, float]:
    """(mean over heads, flag) of the dev F1 at each head's dev-tuned threshold."""
    f1 = [_best_f1(gold[:, j], probs[:, j]) for j in range(gold.shape[1])]
    return float(np.mean(f1)), f1[0]


# --------------------------------------------------------------------------- training


def _trainer_class() -> type:
    import torch
    from transformers import Trainer

    class WindowTrainer(Trainer):
        """Trainer whose loss is BCE on each item's max-over-windows logits, plus
        ``span_weight`` x the span head's token cross-entropy when the model has one."""

        loss_is_scaled_for_ga = False  # a mean over items: let the Trainer divide by accumulation

        def __init__(
            self, *args: Any, pos_weight: np.ndarray, span_weight: float = 0.0, **kwargs: Any
        ) -> None:
            super().__init__(*args, **kwargs)
            self.loss_fn = torch.nn.BCEWithLogitsLoss(
                pos_weight=torch.tensor(pos_weight, dtype=torch.float32)
            )
            self.span_weight = span_weight

        def compute_loss(
            self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, **_: Any
        ) -> Any:
            inputs = dict(inputs)
            owner = inputs.pop("window_item")
            labels = inputs.pop("labels")
            tags = inputs.pop("span_labels", None)
            loss, items = item_loss(
                model, inputs, owner, labels, tags, self.loss_fn, self.span_weight
            )
            return (loss, {"logits": items}) if return_outputs else loss

    return WindowTrainer


def item_loss(
    model: Any,
    inputs: dict[str, Any],
    owner: Any,
    labels: Any,
    tags: Any,
    loss_fn: Any,
    span_weight: float,
) -> tuple[Any, Any]:
    """(loss, item logits): ``loss_fn`` on each item's max-over-windows logits (items,
    heads), plus ``span_weight`` x the mean token cross-entropy of ``model.span_head``
    over the tokens of ``tags`` (windows, length) that are not IGNORE (0 when none are)."""
    import torch

    head = getattr(model, "span_head", None) if span_weight > 0 else None
    out = model(**inputs, output_hidden_states=head is not None)
    logits = out.logits.float()
    index = owner.unsqueeze(1).expand_as(logits)
    items = torch.full((labels.shape[0], logits.shape[1]), -torch.inf, device=logits.device)
    items = items.scatter_reduce(0, index, logits, reduce="amax")
    loss = loss_fn.to(logits.device)(items, labels)
    if head is not None and tags is not None:
        token_logits = head(out.hidden_states[-1]).float()
        total = torch.nn.functional.cross_entropy(
            token_logits.reshape(-1, len(SPAN_TAGS)),
            tags.reshape(-1),
            ignore_index=IGNORE,
            reduction="sum",
        )  # a sum and a clamped count: no NaN (and no host sync) when all are masked
        loss = loss + span_weight * total / (tags != IGNORE).sum().clamp(min=1)
    return loss, items


def _log_callback(progress: Callable[[str], None]) -> Any:
    from transformers.trainer_callback import ProgressCallback

    class ReadableProgress(ProgressCallback):
        """The Trainer's progress bar, with log lines a researcher can read."""

        def on_log(
            self,
            args: Any,
            state: Any,
            control: Any,
            logs: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            logs = logs or {}
            if "eval_macro_f1" in logs:
                line = (
                    f"epoch {state.epoch:.2f}: dev loss {logs['eval_loss']:.4f}, "
                    f"macro-F1 {logs['eval_macro_f1']:.3f}, flag F1 {logs['eval_flag_f1']:.3f}"
                )
            elif "loss" in logs:
                line = (
                    f"epoch {state.epoch:.2f} step {state.global_step}/{state.max_steps}: "
                    f"train loss {logs['loss']:.4f}, lr {logs.get('learning_rate', 0):.2e}"
                )
            else:
                return
            if self.training_bar is not None:
                self.training_bar.write(line, file=sys.stderr)
            else:
                progress(line)

    return ReadableProgress()


def _load_base(source: str, local_only: bool) -> tuple[Any, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        with quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(
                source, local_files_only=local_only, trust_remote_code=False
            )
            model = AutoModelForSequenceClassification.from_pretrained(
                source,
                num_labels=len(HEADS),
                problem_type="multi_label_classification",
                id2label=dict(enumerate(HEADS)),
                label2id={h: i for i, h in enumerate(HEADS)},
                local_files_only=local_only,
                trust_remote_code=False,
                attn_implementation="sdpa",
            )
    except (OSError, ValueError) as exc:
        raise MissingBaseError(_message(source, f"loading it failed ({exc})")) from None
    if not getattr(tokenizer, "is_fast", False):
        raise MissingBaseError(_message(source, "it has no fast (tokenizers) tokenizer"))
    return tokenizer, model


def _tokenizer_files(tokenizer: Any) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        return {
            n: (Path(tmp) / n).read_bytes() for n in TOKENIZER_FILES if (Path(tmp) / n).is_file()
        }


def _training_args(config: TransformerTrainConfig, output_dir: str, cuda: bool, bf16: bool) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.grad_accum,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup,  # below 1: a share of the steps
        eval_strategy="epoch",
        save_strategy="epoch",
        save_only_model=True,  # no optimizer pickles, even in the temporary checkpoints
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=config.log_steps,
        logging_first_step=True,
        seed=config.seed,
        data_seed=config.seed,
        bf16=bf16,
        fp16=cuda and not bf16,
        use_cpu=not cuda,
        dataloader_pin_memory=cuda,
        remove_unused_columns=False,
        label_names=["labels"],
        report_to="none",
    )


def _fine_tune(
    config: TransformerTrainConfig,
    model: Any,
    data: dict[str, Any],
    pos_weight: np.ndarray,
    progress: Callable[[str], None],
) -> tuple[np.ndarray, dict[str, Any], list[dict[str, Any]]]:
    """Run the Trainer; returns (dev probabilities of the best checkpoint, summary, log history)."""
    import torch
    from transformers import EarlyStoppingCallback
    from transformers.trainer_callback import ProgressCallback

    cuda = torch.cuda.is_available()

    def compute_metrics(pred: Any) -> dict[str, float]:
        macro, flag = _macro_f1(np.asarray(pred.label_ids), sigmoid(np.asarray(pred.predictions)))
        return {"macro_f1": macro, "flag_f1": flag}

    with tempfile.TemporaryDirectory(prefix="netral-train-") as checkpoints, quiet_loading():
        trainer = _trainer_class()(
            model=model,
            args=_training_args(config, checkpoints, cuda, cuda and torch.cuda.is_bf16_supported()),
            train_dataset=data["train"],
            eval_dataset=data["dev"],
            data_collator=_collate,
            compute_metrics=compute_metrics,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=config.patience)],
            pos_weight=pos_weight,
            span_weight=config.span_loss_weight,
        )
        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(_log_callback(progress))
        before = trainer.evaluate()
        progress(
            f"before fine-tuning: dev loss {before['eval_loss']:.4f}, macro-F1 {before['eval_macro_f1']:.3f}"
        )
        trainer.train()
        dev = trainer.predict(data["dev"])
    history = trainer.state.log_history
    losses = [h["loss"] for h in history if "loss" in h]
    summary = {
        "dev_loss_before": before["eval_loss"],
        "dev_loss_after": dev.metrics["test_loss"],
        "train_loss_first": losses[0],
        "train_loss_last": losses[-1],
        "epochs_run": trainer.state.epoch,
        "best_checkpoint": Path(trainer.state.best_model_checkpoint or "").name,
        "best_dev_macro_f1": trainer.state.best_metric,
    }
    progress(f"best {summary['best_checkpoint']}: dev macro-F1 {summary['best_dev_macro_f1']:.3f}")
    return sigmoid(np.asarray(dev.predictions)), summary, history


def train_transformer(
    config: TransformerTrainConfig, progress: Callable[[str], None] = log.info
) -> tuple[TransformerClassifier, dict[str, Any]]:
    """Fine-tune, tune thresholds on dev, evaluate on dev and test, save. Returns (model, metrics)."""
    check_model_destination(config.out, "transformer", force=config.force)
    source, local_only = resolve_base(config.base)  # first: fails in seconds, before torch loads
    from .data import data_hash, read_annotations
    from .evaluate import evaluate, pr_curve

    items = read_annotations(config.data)
    parts = items_by_split(items)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in parts.items())
    progress(f"corpus: {len(items)} items; {sizes}")

    from tokenizers import Tokenizer
    from transformers import set_seed

    set_seed(config.seed)
    tokenizer, model = _load_base(source, local_only)
    with_spans = config.span_loss_weight > 0 and any(
        getattr(i, "rationales", None) for i in parts["train"]
    )
    if with_spans:  # a submodule: the Trainer optimises it and keeps it in its checkpoints
        model.span_head = new_span_head(model.config.hidden_size)
        annotated = sum(1 for i in parts["train"] if i.rationales)
        progress(
            f"span head: {annotated} train items with rationales, loss weight {config.span_loss_weight:g}"
        )
    positions = getattr(model.config, "max_position_embeddings", 512)
    if config.max_length > positions:
        raise ValueError(
            f"max_length {config.max_length} exceeds the base model's {positions} positions"
        )
    progress(
        f"base: {config.base} ({model.config.model_type}, {model.num_parameters() / 1e6:.1f}M parameters)"
    )
    tokenizer_files = _tokenizer_files(tokenizer)
    tokenizer_json = tokenizer_files[TOKENIZER_FILE].decode("utf-8")
    encoder = Encoder(Tokenizer.from_str(tokenizer_json), **asdict(config.windows))
    data = {name: _encode_items(part, encoder) for name, part in parts.items() if part}
    pos_weight = _pos_weight(label_matrix(parts["train"]), config.max_pos_weight)
    weights = ", ".join(f"{h} {w:.1f}" for h, w in zip(HEADS, pos_weight, strict=True))
    progress(f"positive-class weights: {weights}")
    dev_probs, summary, history = _fine_tune(config, model, data, pos_weight, progress)

    thresholds = choose_thresholds(label_matrix(parts["dev"]), dev_probs)
    progress(f"thresholds tuned on dev: {thresholds}")
    manifest = Manifest(
        name=config.name,
        version=config.version,
        kind="transformer",
        preprocess_version=PREPROCESS_VERSION,
        thresholds=thresholds,
        data_hash=data_hash(items),
        config={
            "base": config.base,
            "windows": asdict(config.windows),
            "architecture": model.config.model_type,
            "train_items": len(parts["train"]),
            **(
                {"span_head": {"file": SPAN_HEAD_FILE, "tags": list(SPAN_TAGS)}}
                if with_spans
                else {}
            ),
        },
        netral_version=__version__,
    )
    cuda = model.device.type == "cuda"
    runner = TorchRunner(model, str(model.device))
    clf = TransformerClassifier(
        manifest,
        runner,
        tokenizer_files,
        model=model,
        max_tokens=CUDA_MAX_TOKENS if cuda else CPU_MAX_TOKENS,
    )
    metrics: dict[str, Any] = {
        "training": summary,
        "dev_curve": pr_curve(label_matrix(parts["dev"])[:, 0], dev_probs[:, 0]),
    }
    dev = parts["dev"]
    preds = clf.predict([i.text for i in dev], [i.author_context for i in dev])
    metrics["dev"] = evaluate(
        [i.flag for i in dev], [i.categories for i in dev], preds, seed=config.seed
    )
    if parts["test"]:
        test = parts["test"]
        preds = clf.predict([i.text for i in test], [i.author_context for i in test])
        metrics |= held_out_metrics(test, preds, thresholds["flag"], _gold_spans(test))
    for split in ("dev", "test"):
        if split in metrics:
            m = metrics[split]
            overlap = m.get("evidence_overlap", {}).get("rate")
            progress(
                f"{split}: flag F1 {m['flag']['f1']:.3f}, category macro-F1 "
                f"{m['category_macro_f1']:.3f} (n={m['n']})"
                + (f", evidence overlap {overlap:.3f}" if overlap is not None else "")
            )
    manifest.metrics = metrics
    _write_run_files(config, history)
    clf.save(config.out)
    progress(f"saved {manifest.model_id} to {config.out}")
    return clf, metrics


def _gold_spans(items: Sequence[Any]) -> list[list[dict[str, Any]] | None]:
    """Each item's rationales as the dicts evaluate.evidence_overlap reads (None: none)."""
    return [
        [asdict(r) for r in i.rationales] if getattr(i, "rationales", None) else None for i in items
    ]


def _write_run_files(config: TransformerTrainConfig, history: list[dict[str, Any]]) -> None:
    """The resolved config and the Trainer's log, next to the model (hashed by save)."""
    config.out.mkdir(parents=True, exist_ok=True)
    resolved = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}
    text = json.dumps(resolved, indent=2, default=list) + "\n"
    (config.out / TRAIN_CONFIG_FILE).write_text(text, encoding="utf-8")
    (config.out / TRAINING_LOG_FILE).write_text(
        json.dumps(history, indent=2) + "\n", encoding="utf-8"
    )
