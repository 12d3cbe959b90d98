"""The transformer classifier: a BERT-family encoder (IndoBERT by default) with one sigmoid
output per head, ``flag`` then the categories in CATEGORY_NAMES order.

Text goes through the one normalisation path (:func:`netral_nlp.text.tokenize`, unstemmed);
the author context is the second segment. Long texts are split into overlapping windows;
each head's score is its maximum over the windows, and the evidence comes from the window
that fired the flag head. A model trained with rationale spans has a span head, one
token-classification layer (SPAN_TAGS) on the encoder's last hidden states: its evidence
is the sentence of that window with the most act-token probability, with the actor and
act tokens in it as spans. Without a span head, or when no token of the window is tagged
act, the window's sentences are scored on their own and the highest kept.

A model directory holds ``config.json``, ``model.safetensors``, ``span_head.safetensors``
(when trained with spans), the tokenizer files, a model card and ``manifest.json``;
``netral export`` adds ``model.onnx`` and ``model.int8.onnx``. Nothing in it can run code: weights load from safetensors only,
``trust_remote_code`` is never set, and the tokenizer is read by ``tokenizers`` from JSON.
"""

from __future__ import annotations

import importlib.util
import shutil
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import modelcard
from .engine import (
    CPU_MAX_TOKENS,
    CUDA_MAX_TOKENS,
    Encoder,
    Engine,
    OnnxRunner,
    Request,
    Result,
    Runner,
    TorchRunner,
    Window,
)
from .limits import MAX_SCORED_CHARS
from .manifest import (
    MANIFEST_FILE,
    Manifest,
    ModelLoadError,
    check_preprocess_version,
    model_file,
    read_json,
    sha256_file,
)
from .prediction import Prediction, Span, SpanKind, decide, sigmoid
from .text import sentences, tokenize

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_FILES = (TOKENIZER_FILE, "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
ONNX_FILE = "model.onnx"
ONNX_INT8_FILE = "model.int8.onnx"
ONNX_FILES = (ONNX_INT8_FILE, ONNX_FILE)  # in order of preference
CARD_FILE = "README.md"
SPAN_HEAD_FILE = "span_head.safetensors"
# token tags of the span head; "none" first (id 0), then the rationale roles
SPAN_TAGS = ("none", "actor", "act", "target", "frame")
IGNORE = -100  # the label of tokens that carry no span loss (torch's CrossEntropy default)
SPAN_KINDS_OF_TAGS = {"actor": SpanKind.ASN_ROLE, "act": SpanKind.PARTISAN_ACT}
RUNTIMES = ("auto", "torch", "onnx")
MAX_EVIDENCE = 3
MAX_SNIPPET = 160
EVIDENCE_FLOOR = 0.5  # evidence for items scoring >= floor * flag threshold


@dataclass
class WindowConfig:
    """How texts are cut into model inputs (saved in the manifest as ``config.windows``)."""

    max_length: int = field(
        default=256, metadata={"help": "tokens per window, special tokens and context included"}
    )
    stride: int = field(default=64, metadata={"help": "tokens shared by consecutive windows"})
    max_context_tokens: int = field(
        default=64, metadata={"help": "the author context is cut to this many tokens"}
    )


@dataclass
class Prepared:
    """A text as the model sees it: normalised tokens joined by single spaces, each
    token's start in ``text`` and its span in ``original``."""

    original: str
    text: str
    context: str | None
    starts: list[int]
    spans: list[tuple[int, int]]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` covering ``text[start:end]``."""
        if not self.spans or end <= start:
            return (0, 0)
        first = max(bisect_right(self.starts, start) - 1, 0)
        last = max(bisect_left(self.starts, end) - 1, first)
        return self.spans[first][0], self.spans[last][1]

    def role_chars(self, rationales: Sequence[Any]) -> np.ndarray:
        """(len(text),) SPAN_TAGS id of each character of ``text``: a normalised token
        takes the role of the rationale span (start, end, role in ``original``) that
        overlaps its original word; 0 ("none") elsewhere."""
        out = np.zeros(len(self.text), dtype=np.int64)
        ends = [*(s - 1 for s in self.starts[1:]), len(self.text)]
        for r in rationales:
            if r.role not in SPAN_TAGS:
                continue
            tag = SPAN_TAGS.index(r.role)
            for k, (a, b) in enumerate(self.spans):
                if a < r.end and r.start < b:
                    out[self.starts[k] : ends[k]] = tag
        return out


def span_labels(prepared: Prepared, rationales: Sequence[Any] | None, window: Window) -> list[int]:
    """The span head's label of each token of ``window`` (a window of ``prepared.text``):
    the SPAN_TAGS id of the rationale role under the token's first character, IGNORE for
    special and context tokens, and IGNORE everywhere when the item has no rationales
    (None or empty: unannotated, so no span loss)."""
    if not rationales:
        return [IGNORE] * len(window.ids)
    roles = prepared.role_chars(rationales)
    return [int(roles[a]) if b > a else IGNORE for a, b in window.offsets]


def prepare(text: str, context: str | None = None) -> Prepared:
    """Normalise a text (and its context) for the model; ``len(text)`` is capped at MAX_SCORED_CHARS."""
    text = text[:MAX_SCORED_CHARS]
    parts, starts, spans = [], [], []
    pos = 0
    for token in tokenize(text):
        parts.append(token.norm)
        starts.append(pos)
        spans.append((token.start, token.end))
        pos += len(token.norm) + 1
    norm_context = " ".join(t.norm for t in tokenize(context[:MAX_SCORED_CHARS])) if context else ""
    return Prepared(text, " ".join(parts), norm_context or None, starts, spans)


class TransformerClassifier:
    """Implements the :class:`netral_nlp.model.Classifier` protocol.

    ``manifest.config["windows"]`` holds the :class:`WindowConfig`; ``model`` is the
    torch model when the torch runtime is used (None with ONNX), ``source`` the directory
    it was loaded from.
    """

    def __init__(
        self,
        manifest: Manifest,
        runner: Runner,
        tokenizer_files: dict[str, bytes],
        model: Any = None,
        source: Path | None = None,
        max_tokens: int = CPU_MAX_TOKENS,
    ) -> None:
        from tokenizers import Tokenizer

        self.manifest = manifest
        self.window = WindowConfig(**manifest.config["windows"])
        self.model = model
        self.source = source
        self._tokenizer_files = tokenizer_files
        tokenizer = Tokenizer.from_str(tokenizer_files[TOKENIZER_FILE].decode("utf-8"))
        encoder = Encoder(tokenizer, **asdict(self.window))
        self.engine = Engine(runner, encoder, max_tokens=max(max_tokens, self.window.max_length))

    @property
    def has_span_head(self) -> bool:
        return "span_head" in self.manifest.config

    # -- scoring -----------------------------------------------------------------------
    def predict(
        self, texts: Sequence[str], author_contexts: Sequence[str | None] | None = None
    ) -> list[Prediction]:
        contexts = list(author_contexts) if author_contexts is not None else [None] * len(texts)
        if len(contexts) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(contexts)} author contexts")
        # a generator: preparation runs in the engine's background thread
        requests = (Request(p.text, p.context, p) for p in map(prepare, texts, contexts))
        results = list(self.engine.run(requests))
        predictions = [self._decide(sigmoid(r.logits).max(axis=0)) for r in results]
        self._add_evidence(results, predictions)
        return predictions

    def _decide(self, probs: np.ndarray) -> Prediction:
        return decide(probs, self.manifest.thresholds)

    def _add_evidence(self, results: list[Result], predictions: list[Prediction]) -> None:
        """Evidence for items scoring at least EVIDENCE_FLOOR x the flag threshold: from
        the span head when it tags act tokens in the window that fired (see
        :func:`_span_evidence`), else the sentences of that window, each scored on its
        own, best first (the top one, then any above the flag threshold; at most
        MAX_EVIDENCE)."""
        t_flag = self.manifest.thresholds.get("flag", 0.5)
        candidates: dict[int, list[tuple[float, int, int]]] = {}
        requests = []
        for k, (result, pred) in enumerate(zip(results, predictions, strict=True)):
            if pred.score < EVIDENCE_FLOOR * t_flag:
                continue
            prepared: Prepared = result.request.tag
            fired = int(np.argmax(result.logits[:, 0]))
            if result.tokens is not None and (spans := _span_evidence(result, fired)):
                pred.spans = spans
                pred.evidence = [spans[0].text]
                continue
            sentences = _sentences(prepared.original, *prepared.to_original(*result.spans[fired]))
            if len(sentences) == 1:  # nothing to rank
                candidates[k] = [(pred.score, *sentences[0])]
                continue
            candidates[k] = []
            for s, e in sentences:
                text = prepare(prepared.original[s:e]).text
                requests.append(Request(text, prepared.context, (k, s, e)))
        for result in self.engine.run(requests):
            k, s, e = result.request.tag
            candidates[k].append((float(sigmoid(result.logits[:, 0]).max()), s, e))
        for k, scored in candidates.items():
            scored.sort(key=lambda c: -c[0])
            keep = [c for i, c in enumerate(scored) if i == 0 or c[0] >= t_flag][:MAX_EVIDENCE]
            original = results[k].request.tag.original
            predictions[k].spans = [
                Span(s, e, SpanKind.SENTENCE.value, original[s:e]) for _, s, e in keep
            ]
            predictions[k].evidence = [span.text for span in predictions[k].spans]

    # -- persistence -------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        """Write weights (safetensors), tokenizer, model card and manifest to ``directory``.

        Exported ONNX files travel along only when copied from the directory this model
        was loaded from (same weights); stale ones in ``directory`` are removed.
        """
        if self.model is None and self.source is None:
            raise ValueError("nothing to save: no torch model and no source directory")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        elsewhere = self.source is None or self.source.resolve() != directory.resolve()
        copies: list[str] = []
        if elsewhere:
            for name in ONNX_FILES:
                (directory / name).unlink(missing_ok=True)
            if self.source is not None:
                copies = [n for n in ONNX_FILES if n in self.manifest.files]
                copies += [CONFIG_FILE, WEIGHTS_FILE] if self.model is None else []
                copies += [SPAN_HEAD_FILE] if self.model is None and self.has_span_head else []
        for name in copies:
            shutil.copy2(self.source / name, directory / name)  # type: ignore[operator]
        if self.model is not None:
            head = getattr(self.model, "span_head", None)
            with quiet_loading():
                self.model.save_pretrained(
                    directory,
                    state_dict={
                        k: v
                        for k, v in self.model.state_dict().items()
                        if not k.startswith("span_head.")
                    },
                )
            if head is not None:
                save_span_head(head, directory / SPAN_HEAD_FILE)
            else:
                (directory / SPAN_HEAD_FILE).unlink(missing_ok=True)
        for name, data in self._tokenizer_files.items():
            (directory / name).write_bytes(data)
        (directory / CARD_FILE).write_text(modelcard.render(self.manifest), encoding="utf-8")
        self.manifest.files = {
            p.name: sha256_file(p)
            for p in sorted(directory.iterdir())
            if p.is_file() and p.name != MANIFEST_FILE
        }
        self.manifest.write(directory)

    @classmethod
    def load(
        cls, directory: Path, manifest: Manifest, runtime: str = "auto"
    ) -> TransformerClassifier:
        """Load a saved model; ``runtime`` is "torch", "onnx" (int8 when exported, else
        fp32) or "auto" (ONNX when exported and no GPU is present)."""
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}; expected one of {', '.join(RUNTIMES)}")
        check_preprocess_version(directory, manifest)
        if not isinstance(manifest.config.get("windows"), dict):
            raise ModelLoadError(f"{directory}: the manifest has no config.windows")
        for name in (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE):
            if not (directory / name).is_file():
                hint = " (weights load from safetensors only)" if name == WEIGHTS_FILE else ""
                raise ModelLoadError(f"{directory}: no {name}{hint}")
            model_file(directory, manifest, name)  # only files the manifest lists and hashes
        for path in directory.iterdir():  # transformers may read any of these on its own
            if path.suffix in (".json", ".safetensors") and path.name != MANIFEST_FILE:
                model_file(directory, manifest, path.name)
        read_json(directory / CONFIG_FILE)  # a clear error before transformers parses it
        tokenizer_files = {
            n: model_file(directory, manifest, n).read_bytes()
            for n in TOKENIZER_FILES
            if n in manifest.files
        }
        onnx_path = _onnx_choice(directory, manifest, runtime)
        try:
            if onnx_path is not None:
                return cls(manifest, OnnxRunner(onnx_path), tokenizer_files, source=directory)
            model, device = _load_torch(directory)
            if "span_head" in manifest.config:
                path = model_file(directory, manifest, SPAN_HEAD_FILE)
                model.span_head = load_span_head(path, model.config.hidden_size)
            max_tokens = CUDA_MAX_TOKENS if device.startswith("cuda") else CPU_MAX_TOKENS
            runner = TorchRunner(model, device)
            return cls(
                manifest,
                runner,
                tokenizer_files,
                model=model,
                source=directory,
                max_tokens=max_tokens,
            )
        except Exception as exc:  # a damaged file surfaces as many library error types
            raise ModelLoadError(
                f"{directory}: cannot load the transformer model ({exc})"
            ) from None


def _onnx_choice(directory: Path, manifest: Manifest, runtime: str) -> Path | None:
    """The exported file to run, or None for torch. Only files the manifest lists count."""
    if runtime == "torch":
        return None
    exported = [model_file(directory, manifest, n) for n in ONNX_FILES if n in manifest.files]
    if runtime == "onnx" and not exported:
        raise ModelLoadError(
            f"{directory}: no exported ONNX model; run `netral export {directory} --int8`"
        )
    if not exported or (runtime == "auto" and _cuda_available()):
        return None
    return exported[0]


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Silence the transformers / Hub progress bars (weights loaded, shards written)."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def load_weights(directory: Path, attention: str = "sdpa") -> Any:
    """The fine-tuned encoder of a model directory: safetensors only, no remote code."""
    from transformers import AutoModelForSequenceClassification

    with quiet_loading():
        return AutoModelForSequenceClassification.from_pretrained(
            directory,
            use_safetensors=True,
            trust_remote_code=False,
            local_files_only=True,
            attn_implementation=attention,
        )


def new_span_head(hidden_size: int) -> Any:
    """The span head: one linear layer from a hidden state to SPAN_TAGS logits."""
    import torch

    return torch.nn.Linear(hidden_size, len(SPAN_TAGS))


def save_span_head(head: Any, path: Path) -> None:
    """Write the span head's weight and bias as safetensors (its tags in the metadata)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().float().cpu().contiguous() for k, v in head.state_dict().items()}
    save_file(tensors, str(path), metadata={"tags": ",".join(SPAN_TAGS)})


def load_span_head(path: Path, hidden_size: int) -> Any:
    """The span head saved by :func:`save_span_head`; ValueError when its tags or shape
    do not match this code's SPAN_TAGS and the encoder's hidden size."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as fh:
        tags = (fh.metadata() or {}).get("tags", "")
    if tags != ",".join(SPAN_TAGS):
        raise ValueError(f"{path.name} has tags {tags!r}, expected {','.join(SPAN_TAGS)!r}")
    head = new_span_head(hidden_size)
    head.load_state_dict(load_file(str(path)))  # strict: a wrong shape raises
    return head.eval()


def _load_torch(directory: Path) -> tuple[Any, str]:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return load_weights(directory), device


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]`` (the package's one splitter), each cut
    into pieces of at most MAX_SNIPPET characters on word boundaries."""
    return [(s + start, e + start) for s, e in sentences(text[start:end], MAX_SNIPPET)]


def _span_evidence(result: Result, fired: int) -> list[Span]:
    """Evidence from the span head in window ``fired``: the sentence with the highest sum
    of act-tag probabilities over its tokens, as an ACTOR_ACT span, then the runs of
    actor and act tokens (argmax tag) inside it as ASN_ROLE / PARTISAN_ACT spans, all in
    the original text. Empty when no token of the window is tagged act."""
    prepared: Prepared = result.request.tag
    logits = result.tokens[fired]  # type: ignore[index]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    tags = probs.argmax(axis=1)
    text_tokens = [i for i, (a, b) in enumerate(result.windows[fired].offsets) if b > a]
    act = SPAN_TAGS.index("act")
    if not any(tags[i] == act for i in text_tokens):
        return []
    offsets = result.windows[fired].offsets
    spans = _sentences(prepared.original, *prepared.to_original(*result.spans[fired]))
    starts = [s for s, _ in spans]
    mass = np.zeros(len(spans))
    where = {}
    for i in text_tokens:
        begin = prepared.to_original(*offsets[i])[0]
        where[i] = max(bisect_right(starts, begin) - 1, 0)
        mass[where[i]] += probs[i, act]
    best = int(np.argmax(mass))
    s, e = spans[best]
    out = [Span(s, e, SpanKind.ACTOR_ACT.value, prepared.original[s:e])]
    run: list[int] = []
    for i in [*(i for i in text_tokens if where[i] == best), None]:
        if run and (i is None or tags[i] != tags[run[0]] or i != run[-1] + 1):
            kind = SPAN_KINDS_OF_TAGS.get(SPAN_TAGS[tags[run[0]]])
            if kind is not None:
                a, b = prepared.to_original(offsets[run[0]][0], offsets[run[-1]][1])
                a, b = max(a, s), min(b, e)
                out.append(Span(a, b, kind.value, prepared.original[a:b]))
            run = []
        if i is not None:
            run.append(i)
    return out
