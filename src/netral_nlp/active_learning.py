"""Pick the unlabelled items worth annotating next from a scored file.

Three strategies, each writing why an item was picked:

- ``uncertainty``: the items whose flag score is closest to the model's flag threshold,
  where one more label moves the decision most.
- ``diversity``: items spread over clusters of the texts (k-means on character n-gram
  TF-IDF), the most central of each cluster first, never two near-duplicates.
- ``mixed``: uncertainty within diversity: the ``POOL_FACTOR * k`` most uncertain items
  are clustered into k clusters and each cluster gives its most uncertain item, so a
  batch is not 200 reposts of the one borderline story.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from .data import near_duplicates, normalise_for_dedup

# Two texts at least this similar (5-char-shingle Jaccard) never share a batch.
NEAR_DUP_THRESHOLD = 0.5
# Mixed clusters this many times k of the most uncertain items (enough to find k distinct
# stories among reposts, few enough that every pick stays near the threshold).
POOL_FACTOR = 5


class Strategy(str, Enum):
    uncertainty = "uncertainty"
    diversity = "diversity"
    mixed = "mixed"


@dataclass
class Pick:
    """One selected row: its place in the batch and why it was picked."""

    rank: int
    index: int  # position in the scored rows
    distance: float  # |score - threshold|
    cluster: int | None
    reason: str


def _clusters(texts: Sequence[str], n_clusters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(cluster id, distance to its centroid) per text; k-means on char 3-5-gram TF-IDF."""
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    n = len(texts)
    if n_clusters >= n:
        return np.arange(n), np.zeros(n)
    vec = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=1 << 18)
    x = TfidfTransformer().fit_transform(vec.transform([normalise_for_dedup(t) for t in texts]))
    cls = MiniBatchKMeans if n > 10_000 else KMeans
    with warnings.catch_warnings():  # reposts: fewer distinct texts than clusters is fine
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = cls(n_clusters=n_clusters, random_state=seed, n_init=3).fit(x)
    dist = km.transform(x)[np.arange(n), km.labels_]
    return km.labels_.astype(int), dist


def _spread(order: Sequence[int], clusters: np.ndarray, texts: Sequence[str], k: int) -> list[int]:
    """Round-robin over clusters (each cluster in ``order``'s order; clusters in the order
    of their first member), skipping any text near-duplicate of one already taken."""
    neighbours: dict[int, set[int]] = {}
    for i, j, _ in near_duplicates(texts, NEAR_DUP_THRESHOLD):
        neighbours.setdefault(i, set()).add(j)
        neighbours.setdefault(j, set()).add(i)
    queues: dict[int, list[int]] = {}
    for i in order:
        queues.setdefault(int(clusters[i]), []).append(i)
    taken: list[int] = []
    blocked: set[int] = set()
    while len(taken) < k and queues:
        for c in list(queues):
            queue = queues[c]
            while queue and queue[0] in blocked:
                queue.pop(0)
            if not queue:
                del queues[c]
                continue
            i = queue.pop(0)
            taken.append(i)
            blocked |= neighbours.get(i, set()) | {i}
            if len(taken) == k:
                break
    return taken


def select(
    texts: Sequence[str],
    scores: Sequence[float],
    threshold: float,
    k: int,
    strategy: Strategy | str = Strategy.mixed,
    seed: int = 13,
) -> list[Pick]:
    """Up to ``k`` picks from rows of ``texts`` and flag ``scores`` (probabilities).

    Returns picks in batch order: uncertainty by distance to ``threshold`` (ties by
    position); diversity in round-robin cluster order; mixed by distance. When k is at
    least the number of rows, uncertainty returns every row; diversity and mixed every
    row that is not a near-duplicate of an earlier pick.
    """
    strategy = Strategy(strategy)
    if k < 1:
        raise ValueError(f"--k must be at least 1, not {k}")
    if len(texts) != len(scores):
        raise ValueError(f"{len(texts)} texts but {len(scores)} scores")
    distance = np.abs(np.asarray(scores, dtype=float) - threshold)
    by_distance = [int(i) for i in np.argsort(distance, kind="stable")]
    if strategy is Strategy.uncertainty:
        chosen, clusters = by_distance[:k], None
    elif strategy is Strategy.diversity:
        clusters, central = _clusters(texts, min(k, len(texts)), seed)
        order = [int(i) for i in np.lexsort((np.arange(len(texts)), central))]
        chosen = _spread(order, clusters, texts, k)
    else:
        pool = by_distance[: POOL_FACTOR * k]
        pool_texts = [texts[i] for i in pool]
        pool_clusters, _ = _clusters(pool_texts, min(k, len(pool)), seed)
        local = _spread(range(len(pool)), pool_clusters, pool_texts, k)
        chosen = sorted((pool[j] for j in local), key=lambda i: (distance[i], i))
        clusters = np.full(len(texts), -1)
        clusters[pool] = pool_clusters
    picks = []
    for rank, i in enumerate(chosen, start=1):
        cluster = None if clusters is None else int(clusters[i])
        picks.append(
            Pick(rank, i, float(distance[i]), cluster, _reason(strategy, distance[i], cluster))
        )
    return picks


def _reason(strategy: Strategy, distance: float, cluster: int | None) -> str:
    near = f"score {distance:.3f} from the flag threshold"
    if strategy is Strategy.uncertainty:
        return f"uncertain: {near}"
    if strategy is Strategy.diversity:
        return f"diverse: most central unpicked item of cluster {cluster}"
    return f"uncertain within diversity: {near}, most uncertain unpicked item of cluster {cluster}"


def write_batch(
    rows: Sequence[dict[str, Any]],
    picks: Sequence[Pick],
    threshold: float,
    strategy: Strategy | str,
    path: str | Path,
) -> None:
    """Write the picked rows (JSON Lines), each with a ``selection`` object saying why."""
    strategy = Strategy(strategy)
    with open(path, "w", encoding="utf-8") as fh:
        for pick in picks:
            row = dict(rows[pick.index])
            row["selection"] = {
                "rank": pick.rank,
                "strategy": strategy.value,
                "threshold": threshold,
                "distance": round(pick.distance, 6),
                "cluster": pick.cluster,
                "reason": pick.reason,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
