"""Export a saved transformer model to ONNX for fast CPU scoring.

``model.onnx`` is the fp32 graph with BERT attention, GELU and layer norms fused for ONNX
Runtime; it is checked against torch on a padded batch before it is kept. A model with a
span head exports it as a second output, ``span_logits`` (batch, sequence, tags). With ``int8``,
``model.int8.onnx`` adds dynamic int8 quantisation of the weights (activations quantised
on the fly), typically 2-3x faster on CPUs with VNNI. Both files are hashed into the
manifest; ``netral score`` picks them up (``--runtime onnx``, or ``auto`` without a GPU).
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .manifest import (
    Manifest,
    ModelLoadError,
    check_model_destination,
    sha256_file,
    verify_model_dir,
)
from .transformer import ONNX_FILE, ONNX_INT8_FILE, SPAN_HEAD_FILE, load_span_head, load_weights

OPSET = 17
TOLERANCE = 1e-4  # max |logit difference| between the fp32 export and torch
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _sample(model: Any, rows: int, length: int, seed: int) -> tuple[Any, Any, Any]:
    """A random batch with the padding and two segments that real inputs have."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, model.config.vocab_size, (rows, length), generator=gen)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    for r in range(1, rows):
        mask[r, length - 3 * r :] = 0
    types[:, length // 2 :] = 1 if model.config.type_vocab_size > 1 else 0
    return ids, mask, types


def _with_span_head(model: Any) -> Any:
    """A module returning (logits, span_logits): the classifier and its span head."""
    import torch

    class Both(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.config = model.config

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                output_hidden_states=True,
            )
            return out.logits, self.model.span_head(out.hidden_states[-1])

    return Both().eval()


def _outputs(model: Any) -> list[str]:
    return ["logits", *(["span_logits"] if hasattr(model, "span_head") else [])]


def _export(model: Any, path: Path) -> None:
    import torch

    axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS}
    outputs = _outputs(model)
    if len(outputs) == 2:
        axes["span_logits"] = {0: "batch", 1: "sequence"}
        model = _with_span_head(model)
    # The tracer warns about shape-dependent Python branches; _check runs the graph on
    # other shapes and padding, which is what would catch a wrong trace.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            _sample(model, 2, 16, seed=0),
            str(path),
            input_names=list(INPUTS),
            output_names=outputs,
            dynamic_axes={**axes, "logits": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: no onnxscript dependency
        )


def _optimise(src: Path, dst: Path, config: Any) -> None:
    """Fuse attention, GELU and layer norms (ONNX Runtime's BERT optimiser)."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimised = optimize_model(
        str(src),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
    )
    optimised.save_model_to_file(str(dst))


def _check(model: Any, path: Path) -> float:
    """Max |logit difference| between torch and the ONNX file on a padded batch (over
    both outputs with a span head, on the real tokens)."""
    import onnxruntime as ort
    import torch

    ids, mask, types = _sample(model, 4, 40, seed=1)
    outputs = _outputs(model)
    with torch.inference_mode():
        out = model(
            input_ids=ids,
            attention_mask=mask,
            token_type_ids=types,
            output_hidden_states=len(outputs) == 2,
        )
        expected = [out.logits.numpy()]
        if len(outputs) == 2:
            expected.append(model.span_head(out.hidden_states[-1]).numpy())
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    feeds = {k: v.numpy() for k, v in zip(INPUTS, (ids, mask, types), strict=True) if k in names}
    got = session.run(outputs, feeds)
    real = mask.numpy().astype(bool)
    diffs = [np.abs(got[0] - expected[0]).max()]
    if len(outputs) == 2:
        diffs.append(np.abs(got[1] - expected[1])[real].max())
    return float(max(diffs))


def export_onnx(model_dir: str | Path, int8: bool = False) -> list[Path]:
    """Write ``model.onnx`` (and with ``int8`` also ``model.int8.onnx``) into a saved
    transformer model directory and record them in its manifest. Returns the paths."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    directory = Path(model_dir)
    manifest = Manifest.read(directory)
    if manifest.kind != "transformer":
        raise ModelLoadError(
            f"{directory}: only transformer models can be exported, not {manifest.kind!r}"
        )
    check_model_destination(directory, "transformer")
    verify_model_dir(directory, manifest)
    # eager attention: the pattern ONNX Runtime fuses into one Attention op
    model = load_weights(directory, attention="eager").eval()
    if "span_head" in manifest.config:
        head = load_span_head(directory / SPAN_HEAD_FILE, model.config.hidden_size)
        model.span_head = head
    written = []
    with tempfile.TemporaryDirectory(
        prefix=".onnx-", dir=directory
    ) as tmp:  # same filesystem: atomic renames
        raw, fused = Path(tmp) / "raw.onnx", Path(tmp) / "fused.onnx"
        _export(model, raw)
        _optimise(raw, fused, model.config)
        diff = _check(model, fused)
        if diff > TOLERANCE:
            raise RuntimeError(
                f"the ONNX export differs from torch by {diff:.2e} > {TOLERANCE:g}; not written"
            )
        os.replace(fused, directory / ONNX_FILE)
        written.append(directory / ONNX_FILE)
        if int8:
            quantised = Path(tmp) / "int8.onnx"
            logging.disable(
                logging.WARNING
            )  # its advice to pre-process does not apply to fused graphs
            try:
                quantize_dynamic(
                    directory / ONNX_FILE,
                    quantised,
                    weight_type=QuantType.QInt8,
                    # the fused BERT ops are outside shape inference's reach
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                )
            finally:
                logging.disable(logging.NOTSET)
            os.replace(quantised, directory / ONNX_INT8_FILE)
            written.append(directory / ONNX_INT8_FILE)
    for path in written:
        manifest.files[path.name] = sha256_file(path)
    manifest.config["onnx"] = {
        "opset": OPSET,
        "int8": ONNX_INT8_FILE in manifest.files,
        "max_abs_logit_diff_fp32": diff,
        "span_logits": "span_head" in manifest.config,
    }
    manifest.write(directory)
    return written
