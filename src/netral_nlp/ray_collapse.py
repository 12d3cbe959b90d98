"""Repost and near-duplicate collapse across a Ray cluster: the clusters, sizes and
scores of the local engine's collapse (collapse.py), with no text in the driver.

Collapse is order-dependent (a cluster's representative is its first row in input order;
near-duplicates are searched among recent representatives), so the one sequential step
runs in the driver, over small key columns, and everything that touches text runs on the
cluster::

    records (ray_read.py, materialised once)
      map_batches(key_columns), tasks        per row: hashes of id, parent id and normalised
                                             text, MinHash signature and LSH band keys
      the driver, in input order             Assignment: Clusterer.assign_keys, the local
                                             engine's own code -> each record's cluster,
                                             whether it is the representative, cluster sizes
      map_batches(attach), tasks             rows with _index, _cluster, _rep, _size (the
                                             assignment is one shared object, ~9 bytes a row)
      sort(_cluster)                         each block holds whole clusters
      map_batches(ClusterScorer), actors     the model scores the representatives only; every
                                             row gets its cluster's result (the fan-out)
      sort(_index), then ray_engine          back in input order, encoded and written

Memory: the driver holds the Clusterer (about 200 bytes per row, collapse.py) and the
assignment; records, keys and results live in Ray's object store, spread over the
cluster's nodes and spilled to disk when full. Sizes are final (the assignment is
complete before anything is scored), and every member gets its representative's result:
the local engine's bounded cache never applies.
"""

from __future__ import annotations

import json
from array import array
from typing import Any

import numpy as np

from .batch import _output_rows, load_scoring_model, output_row
from .collapse import Clusterer, ClusterKeys, CollapseConfig, KeyMaker
from .io import Row
from .ray_read import FileRejection, rejection

_KEY_MAKERS: dict[CollapseConfig, KeyMaker] = {}  # one per worker process and config


def key_columns(batch: Any, config: CollapseConfig) -> Any:
    """map_batches over record rows: the same rows with their cluster keys added (null
    for a rejected record): ``id_key``, ``parent_key``, ``text_key`` (uint64) and, for a
    text long enough to shingle, ``sig`` and ``bands`` (the raw bytes of its MinHash
    signature and band keys). The text and author columns are dropped."""
    import pyarrow as pa

    maker = _KEY_MAKERS.setdefault(config, KeyMaker(config))
    records = batch.to_pylist()
    good = [i for i, r in enumerate(records) if r["reason"] is None]
    rows = [_row(records[i]) for i in good]
    keys = maker.keys(rows)
    n = len(records)
    columns: dict[str, list[Any]] = {
        name: [None] * n for name in ("id_key", "parent_key", "text_key", "sig", "bands")
    }
    for k, i in enumerate(good):
        columns["id_key"][i] = keys.id_keys[k]
        columns["parent_key"][i] = keys.parent_keys[k]
        columns["text_key"][i] = keys.text_keys[k]
    for k, i in enumerate(keys.shingled):
        columns["sig"][good[i]] = keys.sigs[k].tobytes()
        columns["bands"][good[i]] = keys.band_keys[k].tobytes()
    out = batch.drop_columns(["text", "author_context", "meta"])
    for name, values in columns.items():
        kind = pa.binary() if name in ("sig", "bands") else pa.uint64()
        out = out.append_column(name, pa.array(values, type=kind))
    return out


def _row(record: dict[str, Any]) -> Row:
    meta = record["meta"]
    return Row(
        record["line"],
        json.loads(record["id"]),
        record["text"],
        record["author_context"],
        None if meta is None else json.loads(meta),
    )


class Assignment:
    """The driver's step: key rows in input order in, clusters out, with the local
    engine's Clusterer. Holds, per record, its cluster (-1 for a rejected one) and
    whether it is its cluster's representative, and the first record index of each file
    of a directory input (records are found again by file and position)."""

    def __init__(self, config: CollapseConfig = CollapseConfig()) -> None:
        self.config = config
        self.clusterer = Clusterer(config)
        self.offsets: dict[str, int] = {}
        self.scored = 0
        self._cluster = array("q")
        self._rep = bytearray()

    @property
    def records(self) -> int:
        return len(self._cluster)

    def add(self, batch: Any) -> list[FileRejection]:
        """Assign a batch of ``key_columns`` rows (the next in input order); returns its
        rejections, in order, for the error file."""
        records = batch.to_pylist()
        for k, record in enumerate(records):
            if "path" in record:
                self.offsets.setdefault(record["path"], self.records + k - record["seq"])
        good = [r for r in records if r["reason"] is None]
        shingled = [k for k, r in enumerate(good) if r["sig"] is not None]
        cfg = self.config
        keys = ClusterKeys(
            ids=[json.loads(r["id"]) for r in good],
            id_keys=[r["id_key"] for r in good],
            parent_keys=[r["parent_key"] for r in good],
            text_keys=[r["text_key"] for r in good],
            shingled=shingled,
            sigs=_stacked([good[k]["sig"] for k in shingled], np.uint32, cfg.num_perm),
            band_keys=_stacked([good[k]["bands"] for k in shingled], np.uint64, cfg.bands),
        )
        assigned = iter(self.clusterer.assign_keys(keys))
        for record in records:
            cluster, new = next(assigned) if record["reason"] is None else (-1, False)
            self._cluster.append(cluster)
            self._rep.append(new)
        self.scored += len(good)
        return [rejection(r) for r in records if r["reason"] is not None]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cluster of each record, int64; is it the representative, bool; members of
        each cluster, int64): what ``attach`` needs, to share through the object store."""
        clusters = np.frombuffer(self._cluster, dtype=np.int64)
        reps = np.frombuffer(bytes(self._rep), dtype=np.bool_)
        return clusters, reps, self.clusterer.sizes().astype(np.int64)


def _stacked(blobs: list[bytes], dtype: Any, width: int) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype=dtype).reshape(-1, width)


def attach(batch: Any, assignment: Any, offsets: dict[str, int], keep_text: bool) -> Any:
    """map_batches over record rows: the scorable ones with ``_index`` (the record's
    position in the input), ``_cluster``, ``_rep`` and ``_size`` (its cluster's final
    size). A member's text is dropped unless kept for the output: only representatives
    are scored."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import ray

    clusters, reps, sizes = ray.get(assignment)
    index = batch["seq"].to_numpy()
    if "path" in batch.column_names:
        index = index + np.array([offsets[p] for p in batch["path"].to_pylist()], dtype=np.int64)
    good = pc.is_null(batch["reason"])
    index = index[good.to_numpy(zero_copy_only=False)]
    rows = batch.filter(good).select(["id", "text", "author_context", "meta"])
    cluster = clusters[index]
    rep = reps[index]
    if not keep_text:
        text = pc.if_else(pa.array(rep), rows["text"], pa.scalar(None, pa.string()))
        rows = rows.set_column(rows.column_names.index("text"), "text", text)
    return (
        rows.append_column("_index", pa.array(index, pa.int64()))
        .append_column("_cluster", pa.array(cluster, pa.int64()))
        .append_column("_rep", pa.array(rep))
        .append_column("_size", pa.array(sizes[cluster], pa.int64()))
    )


class ClusterScorer:
    """A Ray actor: loads the model once, then for each block of whole clusters scores the
    representatives (``batch_size`` at a time) and gives every row its output row, as
    JSON, built from its cluster's result as the local engine builds it."""

    def __init__(
        self,
        model: str | None,
        runtime: str,
        flag_threshold: float | None,
        feed: bool,
        keep_text: bool,
        batch_size: int,
    ) -> None:
        self.clf = load_scoring_model(model, runtime, flag_threshold)
        self.feed = feed
        self.keep_text = keep_text
        self.batch_size = batch_size

    def __call__(self, block: Any) -> dict[str, list[Any]]:
        rows = block.to_pylist()
        reps = [r for r in rows if r["_rep"]]
        results: dict[int, dict[str, Any]] = {}
        for lo in range(0, len(reps), self.batch_size):
            part = reps[lo : lo + self.batch_size]
            ids = [json.loads(r["id"]) for r in part]
            texts = [r["text"] for r in part]
            authors = [r["author_context"] for r in part]
            bases = _output_rows(self.clf, ids, texts, authors)[0]
            results.update(zip((r["_cluster"] for r in part), bases, strict=True))
        out = []
        for r in rows:
            base = results.get(r["_cluster"])
            if base is None:  # the sort put a cluster in two blocks: a bug, not bad input
                raise RuntimeError(f"cluster {r['_cluster']} is split across blocks")
            meta = (json.loads(r["meta"]) if r["meta"] else {}) if self.feed else None
            text = r["text"] if self.keep_text else None
            row = output_row(base, json.loads(r["id"]), meta, text, (base["id"], r["_size"]))
            out.append(json.dumps(row))
        return {"_index": [r["_index"] for r in rows], "row": out}
