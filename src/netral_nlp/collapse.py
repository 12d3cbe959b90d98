"""Repost and near-duplicate collapse: group the rows of a feed into clusters so that each
cluster is scored once and its result fanned out to every member.

A row joins an earlier row's cluster, checked in this order, when

1. it is a ``repost`` or ``forward`` (FeedRecord.relation) whose ``parent_id`` is the id of
   an earlier row of the feed;
2. its text, normalised by :func:`dedup_key` (casefolded, URLs, mentions and a leading
   ``RT`` dropped, punctuation and whitespace collapsed), equals an earlier row's;
3. the Jaccard similarity of its word-bigram shingles with a recent cluster's
   representative is at least ``threshold`` (0.8), estimated by MinHash and found by LSH.

The first member of a cluster, in input order, is its representative; the cluster's id is
the representative's id. Assignment depends only on the input order, so replaying the
same rows gives the same clusters (a resumed run replays the part already written).

Assignment is two steps: :class:`KeyMaker` turns rows into :class:`ClusterKeys` (hashes of
the id, the parent id and the normalised text, MinHash signatures and LSH band keys),
which needs nothing but the rows and the config, so it can run anywhere; then
:meth:`Clusterer.assign_keys` walks the keys in input order. The local engine does both
per chunk (:meth:`Clusterer.assign`); the Ray engine computes keys on the cluster and
assigns in the driver (ray_collapse.py). The hashes are :func:`stable_hash`, equal in
every process, where Python's ``hash()`` is salted per process.

Memory (measured figures in docs/feeds.md): the id and text maps hold one entry per row and
per distinct text, about 200 bytes per row, so ~200 MB per million rows; the LSH index is
bounded: ``window`` recent representatives, their signatures as one uint32 array
(``window`` x ``num_perm`` x 4 bytes: 12.8 MB at the defaults) and ``bands`` dicts of one
entry per representative (~80 MB at the defaults). A near-duplicate of a representative
older than the window starts a new cluster; exact copies and reposts are always found.

datasketch's MinHash hashes one row at a time (~100 us a row) and its LSH index grows
without bound; the signatures here are computed for a whole chunk at once with numpy
(multiply-shift hashing of word-bigram hashes), and the band tables hold one integer key
per band and representative.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import zlib
from collections import OrderedDict
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .io import Row

REPOST_RELATIONS = frozenset({"repost", "forward"})
CLUSTERS_FILE = "clusters.jsonl"  # run directory: final size of each cluster of 2 or more
_LINKS = re.compile(r"(?:https?://|www\.)\S+|@\w+")  # URLs and mentions
_SHIFT = np.uint64(32)
_BIGRAM = np.uint64(0x9E3779B97F4A7C15)  # mixes two word hashes into a bigram's
_WORD_CACHE = 1 << 20  # word hashes kept; the cache is emptied when full
_NON_WORD = re.compile(r"[\W_]+")
_HASH_ROWS = 512  # rows whose shingles are hashed at once: bounds the temporary matrix


def dedup_key(text: str) -> str:
    """The form of ``text`` two copies of a post share: casefolded words with URLs,
    mentions, a leading ``RT`` and punctuation dropped. A text that is only URLs or
    mentions keeps its own casefolded form, so such posts do not all collapse together.

    Cheaper than text.normalise (no stemming or slang), which matters at a million rows,
    and stricter: words that differ only by stem stay different.
    """
    linked = "@" in text or "://" in text or "www." in text  # skips a regex pass on most
    body = _NON_WORD.sub(" ", (_LINKS.sub(" ", text) if linked else text).casefold()).strip()
    if body == "rt" or body.startswith("rt "):
        body = body[3:]
    return body or " ".join(text.casefold().split())


@dataclass(frozen=True)
class CollapseConfig:
    """Settings of the near-duplicate search; the defaults suit posts of 10-60 words."""

    threshold: float = 0.8  # estimated Jaccard of word-bigram shingles to join a cluster
    num_perm: int = 64  # MinHash permutations: the estimate's std is 0.05 at J = 0.8
    bands: int = 16  # LSH bands of num_perm / bands rows: candidates from J ~ 0.5
    window: int = 50_000  # recent representatives searched for near-duplicates
    min_shingles: int = 4  # texts of fewer bigrams are matched exactly only
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if self.num_perm % self.bands or self.window < 1:
            raise ValueError("num_perm must be a multiple of bands, window >= 1")


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text``, the same in every process and run (unlike ``hash()``)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@dataclass
class ClusterKeys:
    """What assignment needs to know of a run of rows, in row order.

    ``id_keys[i]``: stable_hash of row i's id when it is a scraped feed's row (only those
    name parents), else None; ``parent_keys[i]``: stable_hash of the parent id of a
    repost or forward that names one, else None; ``text_keys[i]``: stable_hash of its
    dedup_key. ``shingled``: the rows with a MinHash signature (more than
    ``min_shingles`` words), ``sigs`` their signatures, (len(shingled), num_perm) uint32,
    and ``band_keys`` their LSH keys, (len(shingled), bands) uint64.
    """

    ids: list[Any]
    id_keys: list[int | None]
    parent_keys: list[int | None]
    text_keys: list[int]
    shingled: list[int]
    sigs: np.ndarray
    band_keys: np.ndarray


class KeyMaker:
    """Computes ClusterKeys from rows; its state (the permutations drawn from the seed and a
    cache of word hashes) never changes a result, so any two KeyMakers of one config
    agree."""

    def __init__(self, config: CollapseConfig = CollapseConfig()) -> None:
        self.config = config
        rng = np.random.default_rng(config.seed)
        top = np.iinfo(np.uint32).max
        self._a = rng.integers(1, top, config.num_perm, dtype=np.uint32) | np.uint32(1)
        self._b = rng.integers(0, top, config.num_perm, dtype=np.uint32)
        self._band_mix = rng.integers(
            1, np.iinfo(np.uint64).max, config.num_perm // config.bands, dtype=np.uint64
        )
        self._words: dict[str, int] = {}

    def keys(self, rows: Sequence[Row], known: Container[int] = ()) -> ClusterKeys:
        """The keys of ``rows``. A row whose text key is in ``known`` gets no signature: it
        joins that text's cluster before near-duplicates are looked at."""
        texts = [dedup_key(row.text) for row in rows]
        text_keys = [stable_hash(text) for text in texts]
        words = {
            i: split
            for i, text in enumerate(texts)
            if text_keys[i] not in known and len(split := text.split()) > self.config.min_shingles
        }
        sigs = self._signatures(list(words.values()))
        return ClusterKeys(
            ids=[row.id for row in rows],
            id_keys=[None if row.meta is None else stable_hash(str(row.id)) for row in rows],
            parent_keys=[_parent_key(row) for row in rows],
            text_keys=text_keys,
            shingled=list(words),
            sigs=sigs,
            band_keys=self._band_keys(sigs),
        )

    def _signatures(self, texts: list[list[str]]) -> np.ndarray:
        """MinHash signatures, (len(texts), num_perm) uint32, of the word bigrams of each
        text (a list of at least two words), computed for many texts at once: min over
        bigrams h of (a*h + b) mod 2**32, h the top 32 bits of a 64-bit mix of the two
        words' crc32 (stable across runs, unlike hash()). 32-bit arithmetic halves the
        memory traffic of the (bigrams x num_perm) matrix, the cost of this step."""
        out = np.empty((len(texts), self.config.num_perm), dtype=np.uint32)
        for lo in range(0, len(texts), _HASH_ROWS):
            part = texts[lo : lo + _HASH_ROWS]
            lengths = np.fromiter(map(len, part), dtype=np.int64, count=len(part))
            flat = np.fromiter(
                map(self._word_hash, itertools.chain.from_iterable(part)),
                dtype=np.uint64,
                count=int(lengths.sum()),
            )
            follows = np.ones(len(flat) - 1, dtype=bool)  # word i+1 is in word i's text
            follows[np.cumsum(lengths)[:-1] - 1] = False
            bigrams = (((flat[:-1] * _BIGRAM + flat[1:]) >> _SHIFT)[follows]).astype(np.uint32)
            starts = np.concatenate([[0], np.cumsum(lengths - 1)[:-1]])
            hashed = bigrams[:, None] * self._a + self._b
            out[lo : lo + len(part)] = np.minimum.reduceat(hashed, starts, axis=0)
        return out

    def _word_hash(self, word: str) -> int:
        value = self._words.get(word)
        if value is None:
            if len(self._words) >= _WORD_CACHE:
                self._words.clear()
            value = self._words[word] = zlib.crc32(word.encode("utf-8", "surrogatepass"))
        return value

    def _band_keys(self, sigs: np.ndarray) -> np.ndarray:
        """(rows, bands) uint64: each band's rows of the signature mixed into one key."""
        r = self.config.num_perm // self.config.bands
        banded = sigs.reshape(len(sigs), self.config.bands, r).astype(np.uint64)
        return (banded * self._band_mix).sum(axis=2, dtype=np.uint64)


def _parent_key(row: Row) -> int | None:
    meta = row.meta
    if not meta or meta.get("relation") not in REPOST_RELATIONS or not meta.get("parent_id"):
        return None
    return stable_hash(str(meta["parent_id"]))


class Clusterer:
    """Assigns rows, chunk by chunk in input order, to clusters numbered 0, 1, 2, ...

    ``rep_ids[c]`` is cluster c's id (its representative's id) and ``sizes[c]`` its
    members so far.
    """

    def __init__(self, config: CollapseConfig = CollapseConfig()) -> None:
        self.config = config
        self.key_maker = KeyMaker(config)
        self.rep_ids: list[Any] = []
        self._sizes = np.zeros(1024, dtype=np.int32)
        self._by_id: dict[int, int] = {}  # stable_hash of a row's id -> its cluster
        self._by_text: dict[int, int] = {}  # stable_hash of a dedup_key -> its cluster
        self._sigs = np.zeros((config.window, config.num_perm), dtype=np.uint32)
        self._slot_keys = np.zeros((config.window, config.bands), dtype=np.uint64)
        self._slot_cluster = np.full(config.window, -1, dtype=np.int64)
        self._bands: list[dict[int, int]] = [{} for _ in range(config.bands)]
        self._inserted = 0

    @property
    def clusters(self) -> int:
        return len(self.rep_ids)

    def size(self, cluster: int) -> int:
        return int(self._sizes[cluster])

    def sizes(self) -> np.ndarray:
        """Members of each cluster, indexed by cluster number."""
        return self._sizes[: self.clusters]

    def assign(self, rows: Sequence[Row]) -> list[tuple[int, bool]]:
        """(cluster, is_new) for each row, in order; a new cluster's representative is
        that row."""
        return self.assign_keys(self.key_maker.keys(rows, known=self._by_text))

    def assign_keys(self, keys: ClusterKeys) -> list[tuple[int, bool]]:
        """:meth:`assign` for rows given by their keys (computed by a KeyMaker of this
        config, here or elsewhere)."""
        band_keys = keys.band_keys.tolist()
        position = {i: k for k, i in enumerate(keys.shingled)}
        out: list[tuple[int, bool]] = []
        for i, text_key in enumerate(keys.text_keys):
            parent = keys.parent_keys[i]
            cluster = None if parent is None else self._by_id.get(parent)
            if cluster is None:
                cluster = self._by_text.get(text_key)
            k = position.get(i)
            if cluster is None and k is not None:
                cluster = self._near(keys.sigs[k], band_keys[k])
            if cluster is None:
                cluster = self._new_cluster(keys.ids[i])
                if k is not None:
                    self._index(keys.sigs[k], band_keys[k], cluster)
                out.append((cluster, True))
            else:
                self._sizes[cluster] += 1
                out.append((cluster, False))
            self._by_text.setdefault(text_key, cluster)
            id_key = keys.id_keys[i]
            if id_key is not None:
                self._by_id.setdefault(id_key, cluster)
        return out

    def _new_cluster(self, rep_id: Any) -> int:
        cluster = len(self.rep_ids)
        self.rep_ids.append(rep_id)
        if cluster >= len(self._sizes):
            self._sizes = np.concatenate([self._sizes, np.zeros_like(self._sizes)])
        self._sizes[cluster] = 1
        return cluster

    def _near(self, sig: np.ndarray, keys: list[int]) -> int | None:
        """The cluster of the most similar recent representative with estimated Jaccard
        at least the threshold, or None."""
        slots = {
            s
            for band, key in zip(self._bands, keys, strict=True)
            if (s := band.get(key)) is not None
        }
        if not slots:
            return None
        candidates = np.fromiter(slots, dtype=np.int64, count=len(slots))
        similarity = (self._sigs[candidates] == sig).mean(axis=1)
        best = int(np.argmax(similarity))
        if similarity[best] < self.config.threshold:
            return None
        return int(self._slot_cluster[candidates[best]])

    def _index(self, sig: np.ndarray, keys: list[int], cluster: int) -> None:
        """Add a representative to the LSH window, dropping the oldest when full."""
        slot = self._inserted % self.config.window
        self._inserted += 1
        if self._slot_cluster[slot] >= 0:
            for band, key in zip(self._bands, self._slot_keys[slot].tolist(), strict=True):
                if band.get(key) == slot:
                    del band[key]
        self._sigs[slot] = sig
        self._slot_keys[slot] = keys
        self._slot_cluster[slot] = cluster
        for band, key in zip(self._bands, keys, strict=True):
            band[key] = slot


class ResultCache:
    """The scored result of recent clusters, by cluster number, least recently used
    evicted first. A cluster whose result was evicted is scored again (its next member's
    own text), so output stays complete.

    ``reserve`` marks a cluster whose result is on its way (scored in a chunk in flight);
    ``capacity`` must exceed the rows in flight, so that a result reserved or looked up
    when a chunk is planned is still here when that chunk is written.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._results: OrderedDict[int, dict[str, Any] | None] = OrderedDict()

    def __contains__(self, cluster: int) -> bool:
        return cluster in self._results

    def touch(self, cluster: int) -> None:
        self._results.move_to_end(cluster)

    def reserve(self, cluster: int) -> None:
        self._results[cluster] = None
        self._results.move_to_end(cluster)
        while len(self._results) > self.capacity:
            self._results.popitem(last=False)

    def put(self, cluster: int, result: dict[str, Any]) -> None:
        if cluster in self._results:
            self._results[cluster] = result

    def get(self, cluster: int) -> dict[str, Any]:
        result = self._results.get(cluster)
        if result is None:  # the capacity rule above makes this a bug, not bad input
            raise RuntimeError(f"result of cluster {cluster} was evicted while in use")
        return result
