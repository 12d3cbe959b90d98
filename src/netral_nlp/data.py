"""Read and validate the annotated corpus (JSON Lines, one item a line, LABELS.md).

A corpus path is one ``.jsonl`` file or a directory whose ``*.jsonl`` files (sorted, not
recursive) together form the corpus. ``validate`` reports every problem it finds;
``read_annotations`` refuses input it cannot turn into items. Splitting and adjudication,
which write the corpus, live in :mod:`netral_nlp.splits`.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .labels import (
    ANNOTATION_FIELDS,
    CATEGORY_NAMES,
    JSON_TYPE_NAMES,
    RATIONALE_ROLES,
    SOURCE_TYPES,
)

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
    "rationales": (list,),
}
# Corpus metadata of an item: what annotation tasks and joined scored rows carry along
# (the annotator is whoever annotates next; rationales are annotated, not carried).
ITEM_METADATA: tuple[str, ...] = ("split", "platform", "province", "election", "tags", "notes")
# Tags the rationale rules read (GUIDELINES.md).
ASN_IN_AUTHOR_CONTEXT = "asn_in_author_context"  # the ASN actor is the author, named in the bio
HARD_NEGATIVE = "hard_negative"
# A hard negative whose deciding non-ASN status shows only in the bio: no frame span exists.
NON_ASN_IN_AUTHOR_CONTEXT = "non_asn_in_author_context"

SHINGLE_SIZE = 5
_NUM_PERM = 128
_MINHASH_SEED = 1
# Standard error of a 128-permutation estimate is sqrt(J(1-J)/128) <= 0.045: 0.15 is > 3 SE.
_ESTIMATE_MARGIN = 0.15


class AnnotationError(ValueError):
    """An annotation path or line cannot be read as items."""


@dataclass(frozen=True)
class Rationale:
    """A character span of an item's text that decides its label: ``text[start:end]``,
    with its role (RATIONALE_ROLES) and that text, stored for readability and checked."""

    start: int
    end: int
    role: str
    text: str


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
    rationales: list[Rationale] | None = None  # None: not annotated (corpus v1)


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
        except RecursionError:
            yield lineno, _problem(file, lineno, "-", "broken JSON: nested too deeply", "json")
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
        elif name == "rationales":
            out.extend(_rationale_shape_problems(obj))
        elif isinstance(value, list) and not all(isinstance(v, str) for v in value):
            out.append((name, "expected a list of strings"))
    return out


_RATIONALE_KEYS = ("start", "end", "role", "text")


def _rationale_shape_problems(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for rationale spans that are not objects with int offsets
    0 <= start < end <= len(text), a known role and ``text`` equal to the span's text."""
    out = []
    text = obj.get("text") if isinstance(obj.get("text"), str) else None
    for k, span in enumerate(obj["rationales"]):
        where = f"rationales[{k}]"
        if not isinstance(span, dict):
            out.append((where, f"expected object, got {_type_name(span)}"))
            continue
        out.extend(
            (f"{where}.{key}", "missing field") for key in _RATIONALE_KEYS if key not in span
        )
        out.extend(
            (f"{where}.{key}", "unknown field") for key in span if key not in _RATIONALE_KEYS
        )
        start, end = span.get("start"), span.get("end")
        offsets_ok = True
        for key, value in (("start", start), ("end", end)):
            if key in span and (isinstance(value, bool) or not isinstance(value, int)):
                out.append((f"{where}.{key}", f"expected integer, got {_type_name(value)}"))
                offsets_ok = False
        if offsets_ok and "start" in span and "end" in span:
            if start < 0:
                out.append((f"{where}.start", f"{start} is negative"))
            elif end <= start:
                out.append((f"{where}.end", f"{end} is not after start {start}"))
            elif text is not None and end > len(text):
                out.append((f"{where}.end", f"{end} is past the end of the text ({len(text)})"))
            elif text is not None and "text" in span and span["text"] != text[start:end]:
                msg = (
                    f"{span['text']!r} differs from the text at {start}:{end}, {text[start:end]!r}"
                )
                out.append((f"{where}.text", msg))
        if "role" in span and span["role"] not in RATIONALE_ROLES:
            msg = f"unknown role {span['role']!r} (expected one of {', '.join(RATIONALE_ROLES)})"
            out.append((f"{where}.role", msg))
        if "text" in span and not isinstance(span["text"], str):
            out.append((f"{where}.text", f"expected string, got {_type_name(span['text'])}"))
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
        values = {k: obj[k] for k in _ITEM_FIELDS if k in obj}
        if "rationales" in values:
            values["rationales"] = [Rationale(**span) for span in values["rationales"]]
        items.append(Item(**values))
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
    out.extend(_rationale_problems(rec, flag))
    return out


def _rationale_problems(rec: _Record, flag: bool | None) -> list[Problem]:
    """The role rules of well-formed rationales: no actor span in an unflagged item and no
    frame in a flagged one; a flagged item shows its act and (unless the author's bio
    names the ASN) its actor; a hard negative shows the frame that decides it."""
    spans = rec.typed("rationales", (list,))
    if spans is None or flag is None or _rationale_shape_problems(rec.obj):
        return []
    file, line = Path(rec.file), rec.line
    roles = [span["role"] for span in spans]
    tags = rec.typed("tags", (list,)) or []
    out = []
    wrong = "actor" if not flag else "frame"
    for k, role in enumerate(roles):
        if role == wrong:
            why = (
                "an unflagged item has no ASN actor; mark a non-ASN actor as frame"
                if not flag
                else "a flagged item has no frame span"
            )
            out.append(_problem(file, line, f"rationales[{k}].role", why, "rationale_role"))
    if flag and "act" not in roles:
        msg = "a flagged item needs at least one act span"
        out.append(_problem(file, line, "rationales", msg, "rationale_missing"))
    if flag and "actor" not in roles and ASN_IN_AUTHOR_CONTEXT not in tags:
        msg = f"a flagged item needs at least one actor span (or the tag {ASN_IN_AUTHOR_CONTEXT})"
        out.append(_problem(file, line, "rationales", msg, "rationale_missing"))
    if HARD_NEGATIVE in tags and "frame" not in roles and NON_ASN_IN_AUTHOR_CONTEXT not in tags:
        msg = (
            f"an item tagged {HARD_NEGATIVE} needs at least one frame span "
            f"(or the tag {NON_ASN_IN_AUTHOR_CONTEXT})"
        )
        out.append(_problem(file, line, "rationales", msg, "rationale_missing"))
    return out


def _dedup_key(rec: _Record) -> str:
    """What makes two items the same item: text and author_context. The same text under
    another bio is a contrast pair (ASN status only in the bio), reported as a
    near-duplicate that must share a split."""
    context = rec.obj.get("author_context")
    return (
        normalise_for_dedup(rec.obj["text"])
        + "\x00"
        + (normalise_for_dedup(context) if isinstance(context, str) else "")
    )


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
    first_by_text: dict[str, _Record] = {}  # text + author_context -> first record
    for rec in texted:
        key = _dedup_key(rec)
        if key in first_by_text:
            other = first_by_text[key]
            msg = (
                f"{rec.obj.get('id')!r} has the same text and author_context as "
                f"{other.obj.get('id')!r} ({other.where})"
            )
            out.append(_problem(Path(rec.file), rec.line, "text", msg, "duplicate_text"))
        else:
            first_by_text[key] = rec

    texts = [r.obj["text"] for r in texted]
    for i, j, sim in near_duplicates(texts, near_dup_threshold):
        a, b = texted[i], texted[j]
        if _dedup_key(a) == _dedup_key(b):
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


def validate(
    path: str | Path, near_dup_threshold: float = 0.8, require_rationales: bool = False
) -> Report:
    """Check a corpus path against LABELS.md; raises AnnotationError only for a bad path.

    Problems come in file and line order. Near-duplicates are pairs whose 5-char-shingle
    Jaccard is >= ``near_dup_threshold``: an error when the two sit in different splits
    (leakage), a warning otherwise. ``require_rationales`` (corpus v2) makes an item
    without a ``rationales`` field an error.
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
        if require_rationales and "rationales" not in rec.obj:
            msg = "missing field (required with --require-rationales, corpus v2)"
            problems.append(_problem(Path(rec.file), rec.line, "rationales", msg, "field"))
    problems.extend(_corpus_problems(records, near_dup_threshold))
    order = {str(f): k for k, f in enumerate(files)}
    problems.sort(key=lambda p: (order[p.file], p.line))
    return Report(problems=problems, n_files=len(files), n_items=len(records))


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
            "rationales": datasets.List(
                {
                    "start": datasets.Value("int32"),
                    "end": datasets.Value("int32"),
                    "role": string,
                    "text": string,
                }
            ),
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
    payload = [_hashed(it) for it in sorted(items, key=lambda it: it.id)]
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _hashed(item: Item) -> dict[str, Any]:
    """The item as hashed: without ``rationales`` when it has none, so the hash of a
    corpus without rationales is what it was before they existed."""
    row = asdict(item)
    if row["rationales"] is None:
        del row["rationales"]
    return row
