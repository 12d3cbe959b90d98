"""Read, validate and split the annotated corpus (JSON Lines, one item a line, LABELS.md).

A corpus path is one ``.jsonl`` file or a directory whose ``*.jsonl`` files (sorted, not
recursive) together form the corpus. ``validate`` reports every problem it finds;
``read_annotations`` refuses input it cannot turn into items.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .labels import ANNOTATION_FIELDS, CATEGORY_NAMES, JSON_TYPE_NAMES, SOURCE_TYPES

if TYPE_CHECKING:
    import datasets

SPLITS: tuple[str, ...] = ("train", "dev", "test")

# Optional fields of an item, with their JSON types; unknown extra fields are ignored.
OPTIONAL_FIELDS: dict[str, tuple[type, ...]] = {
    "split": (str, type(None)),
    "platform": (str, type(None)),
    "province": (str, type(None)),
    "election": (str, type(None)),
    "tags": (list,),
    "annotator": (str, type(None)),
    "notes": (str, type(None)),
}

SHINGLE_SIZE = 5
# Looser than validate's default: a pair this close in different splits already leaks.
SPLIT_NEAR_DUP_THRESHOLD = 0.5
_NUM_PERM = 128
_MINHASH_SEED = 1
# Standard error of a 128-permutation estimate is sqrt(J(1-J)/128) <= 0.045: 0.15 is > 3 SE.
_ESTIMATE_MARGIN = 0.15


class AnnotationError(ValueError):
    """An annotation path or line cannot be read as items."""


@dataclass
class Item:
    """One annotated item: the LABELS.md fields, then optional metadata."""

    id: str
    text: str
    source_type: str
    author_context: str | None
    partisan: bool
    asn: bool
    flag: bool
    categories: list[str]
    split: str | None = None
    platform: str | None = None
    province: str | None = None
    election: str | None = None
    tags: list[str] = field(default_factory=list)
    annotator: str | None = None
    notes: str | None = None


_ITEM_FIELDS = tuple(f.name for f in fields(Item))


@dataclass(frozen=True)
class Problem:
    """One validation finding at a 1-based line of a file. ``field`` is ``-`` for the line."""

    file: str
    line: int
    field: str
    message: str
    severity: str  # "error" or "warning"
    rule: str  # short rule name, e.g. "near_duplicate", for counting

    def __str__(self) -> str:
        suffix = " [warning]" if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {self.field}: {self.message}{suffix}"


@dataclass
class Report:
    """What ``validate`` found: problems in file and line order, and what it read."""

    problems: list[Problem]
    n_files: int
    n_items: int  # lines that parsed as JSON objects

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts_by_rule(self) -> dict[str, int]:
        """Number of problems per rule name, most frequent first."""
        return dict(Counter(p.rule for p in self.problems).most_common())

    def summary(self) -> str:
        return (
            f"{self.n_items} items in {self.n_files} files: "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings"
        )


# --------------------------------------------------------------------------- reading


def corpus_files(path: str | Path) -> list[Path]:
    """The ``.jsonl`` files of a corpus path: the file itself, or a directory's, sorted."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.jsonl") if f.is_file())
        if not files:
            raise AnnotationError(f"{p}: no *.jsonl files in this directory")
        return files
    if p.is_file():
        return [p]
    raise AnnotationError(f"{p}: no such file or directory")


def _problem(
    file: Path, line: int, fld: str, msg: str, rule: str, severity: str = "error"
) -> Problem:
    return Problem(str(file), line, fld, msg, severity, rule)


def _parse_lines(file: Path) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
    """Yield (1-based line, object or the Problem that line has); blank lines are skipped."""
    for lineno, raw in enumerate(file.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield lineno, _problem(file, lineno, "-", f"invalid UTF-8 at byte {exc.start}", "utf8")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            msg = f"broken JSON: {exc.msg} (column {exc.colno})"
            yield lineno, _problem(file, lineno, "-", msg, "json")
            continue
        if not isinstance(obj, dict):
            msg = f"expected a JSON object, got {_type_name(obj)}"
            yield lineno, _problem(file, lineno, "-", msg, "not_object")
            continue
        yield lineno, obj


def _type_name(value: Any) -> str:
    return JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _field_problems(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for missing required fields and wrong types of known fields."""
    out = []
    for name in ANNOTATION_FIELDS:
        if name not in obj:
            out.append((name, "missing field"))
    for name, types in {**ANNOTATION_FIELDS, **OPTIONAL_FIELDS}.items():
        if name not in obj:
            continue
        value = obj[name]
        if not isinstance(value, types):
            want = " or ".join(JSON_TYPE_NAMES[t] for t in types)
            out.append((name, f"expected {want}, got {_type_name(value)}"))
        elif isinstance(value, list) and not all(isinstance(v, str) for v in value):
            out.append((name, "expected a list of strings"))
    return out


def read_records(path: str | Path) -> list[tuple[str, int, dict[str, Any]]]:
    """Every JSON object of a corpus path as (file, line, object); raise on unreadable lines."""
    out = []
    for file in corpus_files(path):
        for lineno, obj in _parse_lines(file):
            if isinstance(obj, Problem):
                raise AnnotationError(str(obj))
            out.append((str(file), lineno, obj))
    return out


def read_annotations(path: str | Path) -> list[Item]:
    """Items of a corpus path, in file and line order.

    Raises AnnotationError naming file and line on the first line that is not valid UTF-8
    JSON, lacks a field, has a wrongly typed field, or repeats an id. Label consistency
    is ``validate``'s job.
    """
    items: list[Item] = []
    seen: dict[str, str] = {}
    for file, lineno, obj in read_records(path):
        problems = _field_problems(obj)
        if problems:
            fld, msg = problems[0]
            raise AnnotationError(f"{file}:{lineno}: {fld}: {msg}")
        if obj["id"] in seen:
            raise AnnotationError(
                f"{file}:{lineno}: id: duplicate id {obj['id']!r} (first at {seen[obj['id']]})"
            )
        seen[obj["id"]] = f"{file}:{lineno}"
        items.append(Item(**{k: obj[k] for k in _ITEM_FIELDS if k in obj}))
    return items


# --------------------------------------------------------------------------- near-duplicates


def normalise_for_dedup(text: str) -> str:
    """Whitespace collapsed and case folded: the form duplicate checks compare."""
    return " ".join(text.split()).casefold()


def shingles(text: str, k: int = SHINGLE_SIZE) -> set[str]:
    """Character k-shingles of the dedup form; a text shorter than k is its own shingle."""
    t = normalise_for_dedup(text)
    if len(t) <= k:
        return {t} if t else set()
    return {t[i : i + k] for i in range(len(t) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """|a & b| / |a | b|, in [0, 1]; 0.0 when both are empty."""
    inter = len(a & b)
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


def near_duplicates(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, jaccard)`` with i < j whose 5-char-shingle Jaccard is >= threshold.

    MinHash LSH proposes candidates at a looser threshold, for recall; candidates whose
    MinHash estimate is far below the threshold (more than 3 standard errors at 128
    permutations) are dropped; the rest are confirmed with the exact Jaccard, so the
    result holds no false positives. Sorted by (i, j). Empty texts are never paired.
    """
    from datasketch import MinHash, MinHashLSH

    sets = [shingles(t) for t in texts]
    present = [i for i, s in enumerate(sets) if s]
    minhashes = MinHash.bulk(
        ([s.encode("utf-8") for s in sets[i]] for i in present),
        num_perm=_NUM_PERM,
        seed=_MINHASH_SEED,
        hashfunc=zlib.crc32,
    )
    by_index = dict(zip(present, minhashes, strict=True))
    lsh = MinHashLSH(threshold=max(0.1, threshold - 0.2), num_perm=_NUM_PERM)
    pairs = []
    for j, mh in by_index.items():
        for i in lsh.query(mh):
            small, large = sorted((len(sets[i]), len(sets[j])))
            if small / large < threshold:  # Jaccard <= |small| / |large|
                continue
            if mh.jaccard(by_index[i]) < threshold - _ESTIMATE_MARGIN:
                continue
            sim = jaccard(sets[i], sets[j])
            if sim >= threshold:
                pairs.append((i, j, sim))
        lsh.insert(j, mh)
    return sorted(pairs)


# --------------------------------------------------------------------------- validation


@dataclass
class _Record:
    file: str
    line: int
    obj: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def typed(self, name: str, types: tuple[type, ...]) -> Any:
        """The field's value if present with the right type, else None."""
        value = self.obj.get(name)
        return value if isinstance(value, types) else None


def _item_problems(rec: _Record) -> list[Problem]:
    """Field, source_type, text, label and split checks of one item."""
    file, line = Path(rec.file), rec.line
    out = [_problem(file, line, f, m, "field") for f, m in _field_problems(rec.obj)]

    source_type = rec.typed("source_type", (str,))
    if source_type is not None and source_type not in SOURCE_TYPES:
        msg = f"unknown source_type {source_type!r} (expected one of {', '.join(SOURCE_TYPES)})"
        out.append(_problem(file, line, "source_type", msg, "source_type"))

    text = rec.typed("text", (str,))
    if text is not None and not text.strip():
        out.append(_problem(file, line, "text", "empty or whitespace-only text", "empty_text"))

    partisan, asn, flag = (rec.typed(k, (bool,)) for k in ("partisan", "asn", "flag"))
    if None not in (partisan, asn, flag) and flag != (partisan and asn):
        if flag:
            msg = f"flag is true but partisan={partisan} and asn={asn}; flag needs both"
            out.append(_problem(file, line, "flag", msg, "flag_consistency"))
        elif rec.typed("notes", (str,)):
            # GUIDELINES rule 4: the partisan act and the ASN may belong to different acts.
            msg = "partisan and asn are true but flag is false: check the same-act rule"
            out.append(_problem(file, line, "flag", msg, "flag_consistency", "warning"))
        else:
            msg = (
                "partisan and asn are true but flag is false; flag = partisan and asn "
                "unless they are different acts, which notes must explain"
            )
            out.append(_problem(file, line, "flag", msg, "flag_consistency"))

    categories = rec.typed("categories", (list,))
    if categories is not None and all(isinstance(c, str) for c in categories):
        if flag is True and not categories:
            msg = "flag is true but categories is empty"
            out.append(_problem(file, line, "categories", msg, "categories_consistency"))
        if flag is False and categories:
            msg = f"flag is false but categories is {categories}"
            out.append(_problem(file, line, "categories", msg, "categories_consistency"))
        for name in sorted(set(categories) - set(CATEGORY_NAMES)):
            msg = f"unknown category {name!r} (expected among {', '.join(CATEGORY_NAMES)})"
            out.append(_problem(file, line, "categories", msg, "unknown_category"))
        for name, n in Counter(categories).items():
            if n > 1:
                msg = f"category {name!r} repeated {n} times"
                out.append(_problem(file, line, "categories", msg, "repeated_category"))

    if "split" in rec.obj and rec.obj["split"] not in SPLITS:
        msg = f"split is {rec.obj['split']!r}; expected one of {', '.join(SPLITS)}"
        out.append(_problem(file, line, "split", msg, "split_value"))
    return out


def _corpus_problems(records: list[_Record], near_dup_threshold: float) -> list[Problem]:
    """Duplicate ids, exact and near-duplicate texts, split leakage across items."""
    out = []
    first_by_id: dict[str, _Record] = {}
    for rec in records:
        item_id = rec.typed("id", (str,))
        if item_id is None:
            continue
        if item_id in first_by_id:
            msg = f"duplicate id {item_id!r}: lines {first_by_id[item_id].where} and {rec.where}"
            out.append(_problem(Path(rec.file), rec.line, "id", msg, "duplicate_id"))
        else:
            first_by_id[item_id] = rec

    texted = [r for r in records if (r.typed("text", (str,)) or "").strip()]
    first_by_text: dict[str, _Record] = {}
    for rec in texted:
        key = normalise_for_dedup(rec.obj["text"])
        if key in first_by_text:
            other = first_by_text[key]
            msg = (
                f"{rec.obj.get('id')!r} has the same text as {other.obj.get('id')!r} "
                f"({other.where})"
            )
            out.append(_problem(Path(rec.file), rec.line, "text", msg, "duplicate_text"))
        else:
            first_by_text[key] = rec

    texts = [r.obj["text"] for r in texted]
    for i, j, sim in near_duplicates(texts, near_dup_threshold):
        a, b = texted[i], texted[j]
        if normalise_for_dedup(a.obj["text"]) == normalise_for_dedup(b.obj["text"]):
            continue  # already reported as an exact duplicate
        msg = (
            f"{b.obj.get('id')!r} is a near-duplicate of {a.obj.get('id')!r} ({a.where}), "
            f"Jaccard {sim:.2f}"
        )
        split_a, split_b = a.obj.get("split"), b.obj.get("split")
        if split_a in SPLITS and split_b in SPLITS and split_a != split_b:
            msg += f", in different splits ({split_a} vs {split_b}): leakage"
            out.append(_problem(Path(b.file), b.line, "split", msg, "split_leakage"))
        else:
            out.append(_problem(Path(b.file), b.line, "text", msg, "near_duplicate", "warning"))
    return out


def validate(path: str | Path, near_dup_threshold: float = 0.8) -> Report:
    """Check a corpus path against LABELS.md; raises AnnotationError only for a bad path.

    Problems come in file and line order. Near-duplicates are pairs whose 5-char-shingle
    Jaccard is >= ``near_dup_threshold``: an error when the two sit in different splits
    (leakage), a warning otherwise.
    """
    files = corpus_files(path)
    problems: list[Problem] = []
    records: list[_Record] = []
    for file in files:
        for lineno, obj in _parse_lines(file):
            if isinstance(obj, Problem):
                problems.append(obj)
            else:
                records.append(_Record(str(file), lineno, obj))
    for rec in records:
        problems.extend(_item_problems(rec))
    problems.extend(_corpus_problems(records, near_dup_threshold))
    order = {str(f): k for k, f in enumerate(files)}
    problems.sort(key=lambda p: (order[p.file], p.line))
    return Report(problems=problems, n_files=len(files), n_items=len(records))


# --------------------------------------------------------------------------- splits


def _check_ratios(ratios: Sequence[float]) -> None:
    if len(ratios) != len(SPLITS) or any(r < 0 for r in ratios) or abs(sum(ratios) - 1) > 1e-6:
        raise ValueError(f"ratios must be {len(SPLITS)} non-negative numbers summing to 1")


def _near_dup_groups(items: Sequence[Item], threshold: float) -> list[list[int]]:
    """Indices of items grouped by near-duplicate links (union-find), in index order."""
    parent = list(range(len(items)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in near_duplicates([it.text for it in items], threshold):
        parent[find(j)] = find(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        groups[find(i)].append(i)
    return list(groups.values())


def _strata(item: Item) -> list[str]:
    return ["flag" if item.flag else "no_flag", *sorted(set(item.categories))]


def assign_splits(
    items: Sequence[Item],
    seed: int = 13,
    ratios: tuple[float, float, float] = (0.70, 0.15, 0.15),
    reassign: bool = False,
    near_dup_threshold: float = SPLIT_NEAR_DUP_THRESHOLD,
) -> dict[str, str]:
    """Map every item id to train/dev/test.

    Groups of near-duplicates (Jaccard >= ``near_dup_threshold``) go to one split. Groups
    are placed by a simplified iterative stratification over [flag, no_flag, *categories]:
    rarest label first, each group to the split lacking most of its rarest label, then
    most items. Items that already have a valid split keep it (so new items never
    reshuffle old ones) unless ``reassign``; the new members of a group that already has
    a split join that split. Same items and seed give the same mapping, whatever the order.
    """
    _check_ratios(ratios)
    items = sorted(items, key=lambda it: it.id)
    rng = random.Random(seed)
    label_totals = Counter(label for it in items for label in _strata(it))
    want = {
        s: {lab: r * n for lab, n in label_totals.items()}
        for s, r in zip(SPLITS, ratios, strict=True)
    }
    want_n = {s: r * len(items) for s, r in zip(SPLITS, ratios, strict=True)}
    have: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    have_n: Counter[str] = Counter()
    mapping: dict[str, str] = {}

    def place(idx: list[int], split: str) -> None:
        for i in idx:
            mapping[items[i].id] = split
            have[split].update(_strata(items[i]))
            have_n[split] += 1

    pending = []
    for group in _near_dup_groups(items, near_dup_threshold):
        kept = [i for i in group if not reassign and items[i].split in SPLITS]
        for i in kept:
            place([i], items[i].split)  # type: ignore[arg-type]
        new = [i for i in group if i not in kept]
        if kept and new:
            counts = Counter(items[i].split for i in kept)
            place(new, max(SPLITS, key=lambda s: (counts[s], -SPLITS.index(s))))
        elif new:
            pending.append(new)

    def rarest(group: list[int]) -> str:
        return min(
            {lab for i in group for lab in _strata(items[i])},
            key=lambda lab: (label_totals[lab], lab),
        )

    rng.shuffle(pending)
    pending.sort(key=lambda g: (label_totals[rarest(g)], -len(g)))
    for group in pending:
        label = rarest(group)
        best = max(
            SPLITS,
            key=lambda s: (want[s][label] - have[s][label], want_n[s] - have_n[s], rng.random()),
        )
        place(group, best)
    return mapping


def write_splits(path: str | Path, mapping: Mapping[str, str]) -> int:
    """Set ``split`` on every line whose id is in ``mapping``; return how many lines changed.

    Rewrites the corpus files in place (see :func:`update_items`). Do not run while
    others append to them.
    """
    bad = sorted({s for s in mapping.values() if s not in SPLITS})
    if bad:
        raise ValueError(f"unknown split values {bad}; expected {', '.join(SPLITS)}")
    return update_items(path, {item_id: {"split": split} for item_id, split in mapping.items()})


def update_items(path: str | Path, updates: Mapping[str, Mapping[str, Any]]) -> int:
    """Set the given fields on every line whose id is in ``updates``; return lines changed.

    Files are rewritten atomically, one by one. Other fields, their order, line order,
    line endings and untouched lines stay byte for byte; new keys go at the end.
    """
    changed = 0
    for file in corpus_files(path):
        lines = file.read_bytes().split(b"\n")  # the same line numbering as validate
        n_before = changed
        for k, raw in enumerate(lines):
            body = raw.rstrip(b"\r")
            try:
                obj = json.loads(body.decode("utf-8")) if body.strip() else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                obj = None
            if not (isinstance(obj, dict) and isinstance(obj.get("id"), str)):
                continue
            fields_ = updates.get(obj["id"])
            if fields_ and any(obj.get(key) != value for key, value in fields_.items()):
                obj.update(fields_)
                lines[k] = json.dumps(obj, ensure_ascii=False).encode("utf-8") + raw[len(body) :]
                changed += 1
        if changed != n_before:
            _atomic_write(file, b"\n".join(lines))
    return changed


LABEL_FIELDS = ("partisan", "asn", "flag", "categories")


def apply_adjudication(path: str | Path, adjudication: str | Path) -> int:
    """Write the ``final`` labels of an adjudication file into the corpus; return lines changed.

    Idempotent: the adjudication file is the record, the corpus follows it.
    """
    updates: dict[str, dict[str, Any]] = {}
    for file, line, obj in read_records(adjudication):
        final = obj.get("final")
        if not isinstance(final, dict) or any(k not in final for k in LABEL_FIELDS):
            raise AnnotationError(f"{file}:{line}: final: needs {', '.join(LABEL_FIELDS)}")
        cats = [c for c in CATEGORY_NAMES if c in final["categories"]]  # schema order
        updates[obj["id"]] = {k: final[k] for k in LABEL_FIELDS[:3]} | {"categories": cats}
    return update_items(path, updates)


def _atomic_write(file: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, file.stat().st_mode)  # mkstemp makes it 0600
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- consumers


def load_dataset(path: str | Path) -> datasets.DatasetDict:
    """The corpus as a ``datasets.DatasetDict`` keyed train/dev/test, for notebooks.

    Columns are the Item fields. Items without a split go under ``unsplit``; splits with
    no items are left out.
    """
    import datasets

    string = datasets.Value("string")
    features = datasets.Features(
        {
            "id": string,
            "text": string,
            "source_type": string,
            "author_context": string,
            "partisan": datasets.Value("bool"),
            "asn": datasets.Value("bool"),
            "flag": datasets.Value("bool"),
            "categories": datasets.List(string),
            "split": string,
            "platform": string,
            "province": string,
            "election": string,
            "tags": datasets.List(string),
            "annotator": string,
            "notes": string,
        }
    )
    by_split: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in read_annotations(path):
        by_split[item.split if item.split in SPLITS else "unsplit"].append(asdict(item))
    return datasets.DatasetDict(
        {
            name: datasets.Dataset.from_list(by_split[name], features=features)
            for name in (*SPLITS, "unsplit")
            if by_split.get(name)
        }
    )


def data_hash(items: Sequence[Item]) -> str:
    """sha256 (hex) of the items as canonical JSON, sorted by id: order-independent."""
    payload = [asdict(it) for it in sorted(items, key=lambda it: it.id)]
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
