"""Read a file written by ``netral score`` back into typed rows, joined with the input's
texts: what active learning and the annotation-tool export start from.

A scored row carries ``id``, ``score`` and ``flag`` at least (CONTRACT.md); CSV cells
holding lists and objects are JSON. Texts come from the row's ``text`` field, or from the
input file the scores were made from, joined by id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .collapse import CLUSTERS_FILE
from .data import ITEM_METADATA
from .io import InputError, open_records
from .shards import read_run_manifest, scored_files

JSON_CELLS = ("categories", "category_scores", "evidence", "evidence_spans", "rationales")
TEXT_FIELDS = ("text", "author_context", "source_type")
# What a row takes from the input joined by id: the texts, and a corpus item's metadata
# (tags, province...) so that exporting scored corpus items to a tool keeps it.
JOINED_FIELDS = TEXT_FIELDS + ITEM_METADATA


def _typed(source: str, line: int, obj: dict[str, Any]) -> dict[str, Any]:
    """The row with CSV's flattening undone; InputError naming the line and field."""
    row = dict(obj)
    where = f"{source}:{line}"
    for key in ("id", "score"):
        if row.get(key) in (None, ""):
            raise InputError(f"{where}: {key}: missing; is this a file written by `netral score`?")
    for key in JSON_CELLS:
        if isinstance(row.get(key), str):
            try:
                row[key] = json.loads(row[key]) if row[key] else None
            except json.JSONDecodeError:
                raise InputError(f"{where}: {key}: not JSON: {row[key][:40]!r}") from None
    if isinstance(row.get("flag"), str):
        row["flag"] = row["flag"].strip().lower() in ("true", "1")
    try:
        row["score"] = float(row["score"])
    except (TypeError, ValueError):
        raise InputError(f"{where}: score: expected a number, got {row['score']!r}") from None
    if not 0.0 <= row["score"] <= 1.0:
        raise InputError(f"{where}: score: {row['score']} is outside [0, 1]")
    return row


def _records(path: str | Path) -> list[tuple[str, int, dict[str, Any]]]:
    """(file, line, object) of a scored file, or of every shard of a sharded run's
    directory in input order."""
    files = scored_files(path)
    out = []
    for file in files:
        _, records = open_records(file)
        for line, obj in records:
            if not isinstance(obj, dict):
                raise InputError(f"{file}:{line}: {obj}")
            out.append((str(file), line, obj))
    return out


def read_scored(
    path: str | Path, input: str | Path | None = None, require_text: bool = True
) -> list[dict[str, Any]]:
    """Typed rows of a scored file (or a sharded run's directory), in input order; with
    ``input``, each row gets that file's ``text``, ``author_context``, ``source_type`` and
    corpus metadata (``data.ITEM_METADATA``) for its id.

    Raises InputError naming file, line and field for a row that is not a scored row, an
    id missing from ``input``, or (``require_text``) a row without text.
    """
    rows = [_typed(file, line, obj) for file, line, obj in _records(path)]
    if not rows:
        raise InputError(f"{path}: no rows (is it a file written by `netral score`?)")
    if Path(path).is_dir():
        _final_cluster_sizes(Path(path), rows)
    if input is not None:
        by_id = {str(obj.get("id")): obj for _, _, obj in _records(input)}
        for k, row in enumerate(rows, start=1):
            source = by_id.get(str(row["id"]))
            if source is None:
                raise InputError(f"{path}: row {k}: id {row['id']!r} is not in {input}")
            for key in JOINED_FIELDS:
                if key in source:
                    row[key] = source[key]
    if require_text:
        for k, row in enumerate(rows, start=1):
            if not isinstance(row.get("text"), str) or not row["text"].strip():
                hint = "" if input is not None else "; pass --input with the scored input file"
                raise InputError(f"{path}: row {k} (id {row['id']!r}): text: missing{hint}")
    return rows


def _final_cluster_sizes(directory: Path, rows: list[dict[str, Any]]) -> None:
    """Set ``cluster_size`` to the final sizes of the run's ``clusters.jsonl`` (collapse;
    rows hold the size known when they were written)."""
    if CLUSTERS_FILE not in read_run_manifest(directory).get("sidecars", []):
        return
    _, records = open_records(directory / CLUSTERS_FILE)
    sizes = {str(obj["cluster_id"]): obj["cluster_size"] for _, obj in records}
    for row in rows:
        if "cluster_id" in row:
            row["cluster_size"] = sizes.get(str(row["cluster_id"]), 1)


def flag_threshold(
    rows: Sequence[dict[str, Any]], model: str | Path | None, threshold: float | None
) -> float:
    """The flag threshold the rows were decided at: ``threshold`` if given, else the rows'
    own ``threshold`` field, else the flag threshold in the manifest of ``model`` (the
    shipped default when None), which must be the model the rows name."""
    from .manifest import Manifest
    from .model import default_model_dir

    if threshold is not None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"--threshold must be in [0, 1], not {threshold}")
        return threshold
    own = {row.get("threshold") for row in rows} - {None, ""}
    if len(own) == 1:
        return float(own.pop())
    if len(own) > 1:
        raise ValueError("rows carry different thresholds; pass --threshold")
    directory = Path(model) if model is not None else default_model_dir()
    manifest = Manifest.read(directory)
    scored_by = {str(row["model"]) for row in rows if row.get("model")}
    if scored_by - {manifest.model_id}:
        raise ValueError(
            f"the rows were scored by {', '.join(sorted(scored_by))}, not by "
            f"{manifest.model_id} ({directory}); pass that model with --model, or --threshold"
        )
    return float(manifest.thresholds.get("flag", 0.5))
