"""The data card's tables: corpus statistics as Markdown, kept inside the README's markers.

``update_card`` rewrites only the text between ``<!-- tables:start -->`` and
``<!-- tables:end -->``, so the prose around it stays the annotators' own;
``check_card`` tells CI whether the tables still describe the corpus and its label-review
logs (:mod:`netral_nlp.reviews`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import SPLITS, Item
from .labels import CATEGORY_NAMES, RATIONALE_ROLES, SOURCE_TYPES
from .reviews import ReviewDecision, review_summary

START_MARKER = "<!-- tables:start -->"
END_MARKER = "<!-- tables:end -->"

# Election types the corpus must cover (LABELS.md: pilpres, pileg, pilkada).
ELECTION_TYPES: tuple[str, ...] = ("pilpres", "pileg", "pilkada")
AUTHOR_CONTEXT_TAG = "asn_in_author_context"
NONE_LABEL = "(none)"


@dataclass(frozen=True)
class Minimum:
    """One corpus requirement: what is required, the target, what the corpus has."""

    requirement: str
    target: str
    actual: str
    ok: bool


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    align = [":---"] + ["---:"] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _split_name(item: Item) -> str:
    return item.split if item.split in SPLITS else "unsplit"


def _split_names(items: Sequence[Item]) -> list[str]:
    present = {_split_name(it) for it in items}
    return [s for s in (*SPLITS, "unsplit") if s in present]


def _counts_table(header: str, counts: Counter[str], total: int) -> str:
    """Value, count, share rows, most frequent first (ties by name)."""
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return _table([header, "items", "share"], [(k, n, _pct(n, total)) for k, n in rows])


def _hard_negative(item: Item) -> bool:
    # Unflagged but partisan or asn: partisan xor asn, plus different-act cases with both.
    return not item.flag and (item.partisan or item.asn)


def split_flag_table(items: Sequence[Item]) -> str:
    """Split x flag counts, with a total row."""
    rows = []
    groups = [(s, [it for it in items if _split_name(it) == s]) for s in _split_names(items)]
    for name, group in [*groups, ("total", list(items))]:
        n_flag = sum(it.flag for it in group)
        rows.append((name, n_flag, len(group) - n_flag, len(group), _pct(n_flag, len(group))))
    return _table(["split", "flagged", "unflagged", "total", "flagged share"], rows)


def _category_table(items: Sequence[Item]) -> str:
    splits = _split_names(items)
    rows = []
    for cat in CATEGORY_NAMES:
        per_split = [
            sum(cat in it.categories for it in items if _split_name(it) == s) for s in splits
        ]
        rows.append((cat, *per_split, sum(per_split)))
    return _table(["category", *splits, "total"], rows)


def _categories_per_item_table(flagged: Sequence[Item]) -> str:
    n_cats = Counter(min(len(set(it.categories)), 3) for it in flagged)
    rows = [
        (label, n_cats[k], _pct(n_cats[k], len(flagged)))
        for k, label in ((1, "1"), (2, "2"), (3, "3+"))
    ]
    return _table(["categories per flagged item", "items", "share"], rows)


def _length_table(items: Sequence[Item]) -> str:
    rows = []
    groups = [(st, [it for it in items if it.source_type == st]) for st in SOURCE_TYPES]
    for name, group in [*groups, ("all", list(items))]:
        if not group:
            continue
        words = np.array([len(it.text.split()) for it in group])
        rows.append(
            (
                name,
                len(group),
                int(words.min()),
                f"{np.median(words):g}",
                f"{np.percentile(words, 90):.0f}",
                int(words.max()),
            )
        )
    return _table(["source_type", "items", "min", "median", "p90", "max"], rows)


def check_minimums(items: Sequence[Item]) -> list[Minimum]:
    """The corpus requirements, in a fixed order, each with its actual value."""
    n = len(items)
    flagged = [it for it in items if it.flag]
    unflagged = [it for it in items if not it.flag]
    sources = Counter(it.source_type for it in items)
    provinces = {it.province for it in items if it.province}
    elections = {it.election for it in items if it.election}

    def share_row(req: str, part: int, whole: int, ok: Callable[[float], bool], target: str):
        return Minimum(
            req, target, f"{_pct(part, whole)} ({part}/{whole})", ok(_share(part, whole))
        )

    out = [
        Minimum("items", ">= 2000", str(n), n >= 2000),
        share_row(
            "informal social (source_type post)", sources["post"], n, lambda s: s >= 0.50, ">= 50%"
        ),
        share_row("news (source_type news)", sources["news"], n, lambda s: s >= 0.20, ">= 20%"),
        share_row("flagged", len(flagged), n, lambda s: 0.35 <= s <= 0.45, "35-45%"),
    ]
    for cat in CATEGORY_NAMES:
        k = sum(cat in it.categories for it in flagged)
        out.append(Minimum(f"category {cat}", ">= 150", str(k), k >= 150))
    multi = sum(len(set(it.categories)) >= 2 for it in flagged)
    in_context = sum(AUTHOR_CONTEXT_TAG in it.tags for it in flagged)
    hard = sum(_hard_negative(it) for it in unflagged)
    missing = [e for e in ELECTION_TYPES if e not in elections]
    out += [
        share_row("2+ categories (of flagged)", multi, len(flagged), lambda s: s >= 0.25, ">= 25%"),
        share_row(
            f"tag {AUTHOR_CONTEXT_TAG} (of flagged)",
            in_context,
            len(flagged),
            lambda s: s >= 0.10,
            ">= 10%",
        ),
        share_row(
            "hard negatives (of unflagged)", hard, len(unflagged), lambda s: s >= 0.40, ">= 40%"
        ),
        Minimum("distinct provinces", ">= 25", str(len(provinces)), len(provinces) >= 25),
        Minimum(
            "election types",
            ", ".join(ELECTION_TYPES),
            "all present" if not missing else "missing " + ", ".join(missing),
            not missing,
        ),
    ]
    return out


def _rationale_table(items: Sequence[Item]) -> str:
    """Rationale spans per role, and how many items carry them, flagged and not."""
    with_spans = [it for it in items if it.rationales]
    roles = Counter(span.role for it in with_spans for span in it.rationales or ())
    flagged = [it for it in items if it.flag]
    linked = sum({"actor", "act"} <= {span.role for span in it.rationales or ()} for it in flagged)
    annotated = sum(it.rationales is not None for it in items)
    rows = [(role, roles[role], "") for role in RATIONALE_ROLES]
    rows += [
        ("items annotated (field present)", annotated, _pct(annotated, len(items))),
        ("items with at least one span", len(with_spans), _pct(len(with_spans), len(items))),
        ("flagged items with actor and act", linked, _pct(linked, len(flagged))),
    ]
    return _table(["spans or items", "count", "share"], rows)


def card_tables(items: Sequence[Item], reviews: Sequence[ReviewDecision] = ()) -> str:
    """All data-card tables as Markdown, deterministic for the same items (any order) and
    review decisions (in log order)."""
    items = sorted(items, key=lambda it: it.id)
    n = len(items)
    flagged = [it for it in items if it.flag]
    unflagged = [it for it in items if not it.flag]
    sources = Counter(it.source_type for it in items)
    platforms = Counter(it.platform or NONE_LABEL for it in items)
    provinces = Counter(it.province or NONE_LABEL for it in items)
    elections = Counter(it.election or NONE_LABEL for it in items)
    tags = Counter(tag for it in items for tag in set(it.tags))
    multi = sum(len(set(it.categories)) >= 2 for it in flagged)
    hard = sum(_hard_negative(it) for it in unflagged)
    in_context = sum(AUTHOR_CONTEXT_TAG in it.tags for it in flagged)
    n_provinces = len([p for p in provinces if p != NONE_LABEL])
    source_rows = [(st, sources[st], _pct(sources[st], n)) for st in SOURCE_TYPES]

    minimum_rows = [
        (m.requirement, m.target, m.actual, "✅" if m.ok else "❌") for m in check_minimums(items)
    ]
    sections = [
        ("Minimums", _table(["requirement", "target", "actual", "met"], minimum_rows)),
        ("Splits and flags", split_flag_table(items)),
        ("Categories per split", _category_table(items)),
        (
            "Categories per flagged item",
            _categories_per_item_table(flagged)
            + f"\n\nFlagged items with 2+ categories: {_pct(multi, len(flagged))} ({multi}/{len(flagged)}).",
        ),
        (
            "Source types",
            _table(["source_type", "items", "share"], source_rows)
            + f"\n\nInformal social (source_type post): {_pct(sources['post'], n)}.",
        ),
        ("Platforms (style)", _counts_table("platform", platforms, n)),
        (
            "Provinces",
            f"{n_provinces} distinct provinces.\n\n" + _counts_table("province", provinces, n),
        ),
        ("Election types", _counts_table("election", elections, n)),
        ("Length in words", _length_table(items)),
        (
            "Hard cases",
            _table(
                ["measure", "items", "share"],
                [
                    (
                        "hard negatives (unflagged, partisan or asn)",
                        hard,
                        _pct(hard, len(unflagged)),
                    ),
                    (
                        f"flagged with tag {AUTHOR_CONTEXT_TAG}",
                        in_context,
                        _pct(in_context, len(flagged)),
                    ),
                ],
            ),
        ),
        ("Rationale spans", _rationale_table(items)),
        ("Tags", _counts_table("tag", tags, n)),
        ("Label review", review_summary(reviews)),
    ]
    body = "\n\n".join(f"### {title}\n\n{table}" for title, table in sections)
    return f"{n} items, {len(flagged)} flagged ({_pct(len(flagged), n)}).\n\n{body}\n"


def _block(items: Sequence[Item], reviews: Sequence[ReviewDecision]) -> str:
    return f"{START_MARKER}\n<!-- generated by `netral data card`; do not edit by hand -->\n\n{card_tables(items, reviews)}\n{END_MARKER}"


def _marker_span(text: str, path: Path) -> tuple[int, int] | None:
    """(start, end) offsets of the marked block including markers, None when absent."""
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 and end < 0:
        return None
    if start < 0 or end < start or text.count(START_MARKER) > 1 or text.count(END_MARKER) > 1:
        raise ValueError(f"{path}: expected one {START_MARKER} followed by one {END_MARKER}")
    return start, end + len(END_MARKER)


def update_card(
    readme_path: str | Path, items: Sequence[Item], reviews: Sequence[ReviewDecision] = ()
) -> bool:
    """Regenerate the tables between the markers; return whether the file changed.

    A README without markers (or a missing one) gets a "Corpus statistics" section with
    the markers appended at its end.
    """
    path = Path(readme_path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    span = _marker_span(text, path)
    if span is None:
        sep = "\n\n" if text.strip() else ""
        new = f"{text.rstrip()}{sep}## Corpus statistics\n\n{_block(items, reviews)}\n"
    else:
        new = text[: span[0]] + _block(items, reviews) + text[span[1] :]
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def check_card(
    readme_path: str | Path, items: Sequence[Item], reviews: Sequence[ReviewDecision] = ()
) -> bool:
    """Whether the README exists, has the markers, and its tables match ``items`` and
    ``reviews``."""
    path = Path(readme_path)
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    span = _marker_span(text, path)
    return span is not None and text[span[0] : span[1]] == _block(items, reviews)
