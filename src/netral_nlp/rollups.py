"""The tables monitors hand up, from a file (or run directory) written by ``netral score``:
findings by province and kabupaten/kota, by instansi, by jabatan, by category, by ISO
week, by status and by account, and one evidence line per flagged item.

Only flagged rows are attributed (region, instansi, jabatan, highlighting), so the work
grows with the findings, not the feed; every row still counts toward its account's mean
score. Every optional field (text, author_handle/author_id, author_context, created_at,
url, platform, status) may be missing: a table that needs one says so in its ``note``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from .io import InputError
from .labels import CATEGORY_NAMES
from .output import read_scored
from .regions import Region, find_regions, places
from .shards import scored_files
from .signals import detect, lexicon, lower_same_length, patterns

STATUSES = ("temuan", "kajian", "rekomendasi", "selesai")
NOT_REVIEWED = "belum ditinjau"
UNKNOWN = "tidak diketahui"
NOT_NAMED = "tidak disebut"
GENERIC_JABATAN = "ASN"
MAX_ACCOUNT_EVIDENCE = 20  # evidence lines kept per account (the rest are counted)
# Marks of the plain-text highlight (CSV, XLSX): ⟦actor⟧ and ⟪act⟫.
ACTOR_MARKS = ("⟦", "⟧")
ACT_MARKS = ("⟪", "⟫")
_MARK_KINDS = {"asn_role": "actor", "partisan_act": "act"}  # span kind -> highlight kind


@dataclass
class Table:
    """A table for people: ``columns`` and ``rows`` in display order; ``note`` says why
    it is empty or partial (a field the scored file lacks)."""

    name: str  # short, file- and sheet-safe: "provinsi"
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str | None = None


@dataclass
class Item:
    """One flagged row as the evidence sheet shows it. ``marks`` are (start, end, kind)
    offsets into ``evidence``, kind "actor" or "act"."""

    id: Any
    url: str | None
    created_at: str | None  # UTC, ISO 8601
    account: str | None
    platform: str | None
    score: float
    categories: list[str]
    region: Region | None
    instansi: str
    jabatan: str
    evidence: str
    marks: list[tuple[int, int, str]]
    status: str

    @property
    def week(self) -> str | None:
        return iso_week(self.created_at)

    def highlighted(self) -> str:
        """The evidence with actor and act spans between ACTOR_MARKS and ACT_MARKS."""
        out, pos = [], 0
        for start, end, kind in self.marks:
            left, right = ACTOR_MARKS if kind == "actor" else ACT_MARKS
            out += [self.evidence[pos:start], left, self.evidence[start:end], right]
            pos = end
        out.append(self.evidence[pos:])
        return "".join(out)


@dataclass(slots=True)
class _Account:
    """Sums over every row of one account; the lists only once it has a finding (most
    accounts never do, and a feed has millions)."""

    handle: str | None
    author_id: str | None
    platform: str | None
    bio: str | None = None
    items: int = 0
    score_sum: float = 0.0
    score_max: float = 0.0
    flagged: int = 0
    categories: Counter[str] | None = None
    first: str | None = None
    last: str | None = None
    evidence: list[str] | None = None


@dataclass
class Rollup:
    """What one pass over a scored file keeps: counts, per-account sums, flagged items."""

    source: str = ""
    rows: int = 0
    unreadable: int = 0
    fields: set[str] = field(default_factory=set)  # optional fields seen with a value
    models: set[str] = field(default_factory=set)
    items: list[Item] = field(default_factory=list)
    accounts: dict[str, _Account] = field(default_factory=dict)

    @property
    def flagged(self) -> int:
        return len(self.items)

    def add(self, row: dict[str, Any]) -> None:
        """Count one typed scored row (see :func:`scored_rows`)."""
        self.rows += 1
        for key in ("text", "author_handle", "author_id", "author_context", "created_at", "url"):
            if _str(row.get(key)):
                self.fields.add(key)
        if row.get("model"):
            self.models.add(str(row["model"]))
        account = self._account(row)
        if account is not None:
            account.items += 1
            account.score_sum += row["score"]
            account.score_max = max(account.score_max, row["score"])
        if not row["flag"]:
            return
        item = attribute(row)
        self.items.append(item)
        if account is not None:
            account.flagged += 1
            if account.categories is None or account.evidence is None:
                account.categories, account.evidence = Counter(), []
            account.categories.update(item.categories)
            if item.created_at:
                account.first = min(account.first or item.created_at, item.created_at)
                account.last = max(account.last or item.created_at, item.created_at)
            if len(account.evidence) < MAX_ACCOUNT_EVIDENCE and item.evidence:
                account.evidence.append(item.evidence)

    def _account(self, row: dict[str, Any]) -> _Account | None:
        handle, author_id = _str(row.get("author_handle")), _str(row.get("author_id"))
        if not handle and not author_id:
            return None
        platform = _str(row.get("platform"))
        key = f"{platform or ''}\t{handle or author_id}"
        account = self.accounts.get(key)
        if account is None:
            account = self.accounts[key] = _Account(handle, author_id, platform)
        bio = _str(row.get("author_context"))
        if bio:
            account.bio = bio  # the latest bio seen
        return account


def rollup(path: str | Path) -> Rollup:
    """Read a scored file or a run directory once and keep what the tables need."""
    result = Rollup(source=str(path))
    for row in scored_rows(path, result):
        result.add(row)
    if not result.rows:
        raise InputError(f"{path}: no scored rows (is it a file written by `netral score`?)")
    return result


def scored_rows(path: str | Path, counts: Rollup | None = None) -> Iterator[dict[str, Any]]:
    """Typed rows of a scored file, or of a run directory's shards in order; rows that are
    not scored rows are counted in ``counts.unreadable``."""
    files = scored_files(path)
    for file in files:
        for row in read_scored(file):
            if row is not None:
                yield row
            elif counts is not None:
                counts.unreadable += 1


# --------------------------------------------------------------------------- one item


def attribute(row: dict[str, Any]) -> Item:
    """The evidence line of one flagged row: where (region), who (instansi, jabatan) and
    the evidence with its actor and act spans."""
    evidence, marks = highlight(row)
    text = _str(row.get("text")) or " ".join(str(e) for e in row.get("evidence") or [])
    bio = _str(row.get("author_context"))
    focus = evidence or text
    status = (_str(row.get("status")) or "").lower()
    return Item(
        id=row.get("id"),
        url=_str(row.get("url")),
        created_at=utc_iso(row.get("created_at")),
        account=_str(row.get("author_handle")) or _str(row.get("author_id")),
        platform=_str(row.get("platform")),
        score=float(row["score"]),
        categories=[c for c in row.get("categories") or [] if isinstance(c, str)],
        region=find_regions(text, bio),
        instansi=find_instansi(focus, text, bio),
        jabatan=find_jabatan(focus, text, bio),
        evidence=evidence,
        marks=marks,
        status=status if status in STATUSES else "",
    )


def highlight(row: dict[str, Any]) -> tuple[str, list[tuple[int, int, str]]]:
    """The best evidence text of a row and its actor/act marks, non-overlapping, in order.

    The evidence is the first actor_act or sentence span (its offsets place the signal
    spans without the text), else the first evidence string; signal spans the row lacks
    are found again in the evidence with the rule detectors."""
    spans = [s for s in row.get("evidence_spans") or [] if isinstance(s, dict)]
    main = next((s for s in spans if s.get("kind") in ("actor_act", "sentence")), None)
    evidence = (main or {}).get("text") or next(iter(row.get("evidence") or []), "") or ""
    evidence = str(evidence)
    base = main.get("start", 0) if main else None
    found: list[tuple[int, int, str]] = []
    for span in spans:
        kind = _MARK_KINDS.get(span.get("kind", ""))
        piece = str(span.get("text") or "")
        if kind is None or not piece:
            continue
        start = -1
        if isinstance(base, int) and isinstance(span.get("start"), int):
            rel = span["start"] - base
            if rel >= 0 and evidence[rel : rel + len(piece)] == piece:
                start = rel
        if start < 0:
            start = evidence.find(piece)
        if start >= 0:
            found.append((start, start + len(piece), kind))
    if not found and evidence:
        found = [
            (s.start, s.end, _MARK_KINDS[s.kind]) for s in detect(evidence) if s.kind in _MARK_KINDS
        ]
    marks: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(set(found)):
        if not marks or start >= marks[-1][1]:
            marks.append((start, end, kind))
    return evidence, marks


@cache
def _instansi_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple(
        (re.compile(rf"(?<!\w)(?:{e.pattern})(?!\w)"), e.type) for e in lexicon("instansi")
    )


def find_instansi(*texts: str | None) -> str:
    """The instansi named nearest the start of the first text that names one (evidence,
    then the whole text, then the bio); NOT_NAMED when none does."""
    for text in texts:
        if not text:
            continue
        low = lower_same_length(text)
        found = []
        for order, (rx, label) in enumerate(_instansi_patterns()):
            m = rx.search(low)
            if m:
                groups = [g.title() for g in m.groups() if g]
                found.append(
                    (m.start(), m.end(), order, label.format(*groups) if groups else label)
                )
        if found:
            # The first mention; of those overlapping it, the earliest line ("kepala dinas
            # pendidikan" is Dinas Pendidikan, not the bare "kepala dinas").
            first = min(found)
            return min((f for f in found if f[0] < first[1]), key=lambda f: f[2])[3]
    return NOT_NAMED


@cache
def _jabatan_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(e.pattern), e.type) for e in lexicon("jabatan"))


def jabatan_of(role: str) -> str:
    """The table's jabatan for a role the gazetteer found ("Kadis" -> "kepala dinas")."""
    low = " ".join(role.lower().split())
    for rx, label in _jabatan_patterns():
        if rx.fullmatch(low):
            return label
    return low


def find_jabatan(*texts: str | None) -> str:
    """The jabatan of the first ASN role (roles.tsv, type asn) in the first text that names
    one; a specific role wins over the generic ASN/PNS in the same text."""
    rx = patterns("roles", "asn")
    for text in texts:
        if not text:
            continue
        found = [jabatan_of(m.group()) for m in rx.finditer(lower_same_length(text))]
        if found:
            return next((j for j in found if j != GENERIC_JABATAN), found[0])
    return NOT_NAMED


def asn_bio_roles(bio: str | None) -> list[str]:
    """ASN roles a bio names outside a not-ASN or former role ("pensiunan PNS" is none)."""
    if not bio:
        return []
    low = lower_same_length(bio)
    other = [m.span() for m in patterns("roles", "non_asn", "former").finditer(low)]
    return [
        bio[m.start() : m.end()]
        for m in patterns("roles", "asn").finditer(low)
        if not any(s <= m.start() and m.end() <= e for s, e in other)
    ]


def utc_iso(value: Any) -> str | None:
    """An ISO 8601 time as UTC "2024-01-31T02:15:00Z"; None when missing or unreadable.
    A time without an offset is taken as UTC (the feed adapters write UTC)."""
    text = _str(value)
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_week(utc: str | None) -> str | None:
    """ "2024-W05" for a UTC ISO time."""
    if not utc:
        return None
    year, week, _ = datetime.fromisoformat(utc.replace("Z", "+00:00")).isocalendar()
    return f"{year}-W{week:02d}"


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# --------------------------------------------------------------------------- tables


def tables(result: Rollup) -> list[Table]:
    """Every table, in report order: province, kabupaten/kota, instansi, jabatan, the two
    together, category, week, status, account, and the evidence items."""
    return [
        by_province(result),
        by_kabkota(result),
        _count_by(result, "instansi", "Temuan per instansi", "instansi", lambda i: i.instansi),
        _count_by(result, "jabatan", "Temuan per jabatan", "jabatan", lambda i: i.jabatan),
        by_instansi_jabatan(result),
        by_category(result),
        by_week(result),
        by_status(result),
        by_account(result),
        evidence_items(result),
    ]


def _categories(items: Iterable[Item]) -> list[int]:
    counts = Counter(c for item in items for c in item.categories)
    return [counts[c] for c in CATEGORY_NAMES]


def _region_note(result: Rollup) -> str | None:
    if "text" in result.fields or "author_context" in result.fields:
        return None
    return "no text or author_context in the scored file: places come from the evidence only"


def by_province(result: Rollup) -> Table:
    """Findings per province (Kemendagri code order), then those with no place."""
    groups: dict[str, list[Item]] = {}
    for item in result.items:
        groups.setdefault(item.region.province_code if item.region else "", []).append(item)
    rows = []
    for code in sorted(groups, key=lambda c: (c == "", c)):
        items = groups[code]
        name = places()[code].name if code else UNKNOWN
        accounts = len({i.account for i in items if i.account})
        rows.append([code or "-", name, len(items), accounts, *_categories(items)])
    columns = ["kode", "provinsi", "temuan", "akun", *CATEGORY_NAMES]
    return Table("provinsi", "Temuan per provinsi", columns, rows, _region_note(result))


def by_kabkota(result: Rollup) -> Table:
    """Findings per kabupaten/kota (code order); items placed only at province level are
    counted in the province table alone."""
    groups: dict[str, list[Item]] = {}
    for item in result.items:
        if item.region and item.region.code:
            groups.setdefault(item.region.code, []).append(item)
    rows = [
        [code, places()[code].name, places()[code[:2]].name, len(items), *_categories(items)]
        for code, items in sorted(groups.items())
    ]
    columns = ["kode", "kabupaten_kota", "provinsi", "temuan", *CATEGORY_NAMES]
    placed = sum(len(v) for v in groups.values())
    note = _region_note(result)
    if placed < result.flagged:
        extra = f"{result.flagged - placed} of {result.flagged} findings name no kabupaten/kota"
        note = f"{note}; {extra}" if note else extra
    return Table("kabupaten_kota", "Temuan per kabupaten/kota", columns, rows, note)


def _count_by(
    result: Rollup, name: str, title: str, column: str, key: Callable[[Item], str]
) -> Table:
    groups: dict[str, list[Item]] = {}
    for item in result.items:
        groups.setdefault(key(item), []).append(item)
    order = sorted(groups, key=lambda k: (k == NOT_NAMED, -len(groups[k]), k))
    rows = [[k, len(groups[k]), *_categories(groups[k])] for k in order]
    return Table(name, title, [column, "temuan", *CATEGORY_NAMES], rows)


def by_instansi_jabatan(result: Rollup) -> Table:
    """Findings per (instansi, jabatan) pair, most first: who, where, at once."""
    counts = Counter((i.instansi, i.jabatan) for i in result.items)
    order = sorted(counts, key=lambda k: (NOT_NAMED in k, -counts[k], k))
    rows = [[ins, jab, counts[ins, jab]] for ins, jab in order]
    title = "Temuan per instansi dan jabatan"
    return Table("instansi_jabatan", title, ["instansi", "jabatan", "temuan"], rows)


def by_category(result: Rollup) -> Table:
    """Findings per category; an item with two categories counts in both."""
    counts = _categories(result.items)
    rows = [
        [name, n, round(n / result.flagged, 4) if result.flagged else 0.0]
        for name, n in zip(CATEGORY_NAMES, counts, strict=True)
    ]
    return Table("kategori", "Temuan per kategori", ["kategori", "temuan", "bagian"], rows)


def by_week(result: Rollup) -> Table:
    """Findings per ISO week of created_at (UTC)."""
    groups: dict[str, list[Item]] = {}
    undated = 0
    for item in result.items:
        if item.week:
            groups.setdefault(item.week, []).append(item)
        else:
            undated += 1
    rows = [[week, len(items), *_categories(items)] for week, items in sorted(groups.items())]
    note = None
    if "created_at" not in result.fields:
        note = "no created_at in the scored file: no weekly table"
    elif undated:
        note = f"{undated} findings have no readable created_at"
    return Table(
        "minggu", "Temuan per minggu (ISO)", ["minggu", "temuan", *CATEGORY_NAMES], rows, note
    )


def by_status(result: Rollup) -> Table:
    """Findings per monitoring status; a file never reviewed has them all unreviewed."""
    counts = Counter(item.status or NOT_REVIEWED for item in result.items)
    rows = [[s, counts[s]] for s in (*STATUSES, NOT_REVIEWED)]
    return Table("status", "Temuan per status", ["status", "temuan"], rows)


def by_account(result: Rollup) -> Table:
    """Accounts with a finding, most findings first: ASN roles in the bio, counts, max and
    mean score over all the account's rows, categories, first and last finding, evidence."""
    columns = ["akun", "author_id", "platform", "bio_asn", "peran_bio", "item", "temuan",
               "skor_maks", "skor_rata2", "kategori", "temuan_pertama", "temuan_terakhir",
               "bukti"]  # fmt: skip
    if not result.accounts:
        note = "no author_handle or author_id in the scored file: no account table"
        return Table("akun", "Temuan per akun", columns, [], note)
    flagged = [a for a in result.accounts.values() if a.flagged]
    flagged.sort(key=lambda a: (-a.flagged, -a.score_max, a.handle or a.author_id or ""))
    rows = []
    for a in flagged:
        roles = asn_bio_roles(a.bio)
        bio_asn = "-" if a.bio is None else ("ya" if roles else "tidak")
        counted = sorted((a.categories or {}).items(), key=_by_count)
        cats = "; ".join(f"{c} {n}" for c, n in counted)
        evidence = list(a.evidence or [])
        if a.flagged > len(evidence):
            evidence.append(f"(+{a.flagged - len(evidence)})")
        rows.append([
            a.handle or a.author_id, a.author_id, a.platform, bio_asn, ", ".join(roles),
            a.items, a.flagged, round(a.score_max, 4), round(a.score_sum / a.items, 4),
            cats, a.first, a.last, evidence,
        ])  # fmt: skip
    note = None if "author_context" in result.fields else "no author_context: bios unknown"
    return Table("akun", "Temuan per akun", columns, rows, note)


def _by_count(pair: tuple[str, int]) -> tuple[int, str]:
    return -pair[1], pair[0]


EVIDENCE_COLUMNS = ["id", "url", "waktu", "akun", "platform", "skor", "kategori", "provinsi",
                    "kabupaten_kota", "instansi", "jabatan", "bukti", "sorotan", "status"]  # fmt: skip


def ranked_items(result: Rollup) -> list[Item]:
    """Flagged items, highest score first (ties in file order): the evidence sheet's order."""
    return sorted(result.items, key=lambda i: -i.score)


def evidence_items(result: Rollup) -> Table:
    """One line per flagged item, highest score first, with an empty ``status`` for the
    monitors (temuan, kajian, rekomendasi, selesai) unless the file carried one."""
    rows = [
        [
            i.id,
            i.url,
            i.created_at,
            i.account,
            i.platform,
            round(i.score, 4),
            ", ".join(i.categories),
            i.region.province if i.region else None,
            i.region.name if i.region else None,
            i.instansi,
            i.jabatan,
            i.evidence,
            i.highlighted(),
            i.status,
        ]
        for i in ranked_items(result)
    ]
    missing = [f for f in ("url", "created_at") if f not in result.fields]
    note = f"not in the scored file: {', '.join(missing)}" if missing else None
    return Table("bukti", "Bukti per item", list(EVIDENCE_COLUMNS), rows, note)
