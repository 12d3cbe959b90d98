"""Where an item happened: a province and kabupaten/kota named in a text or a bio, keyed to
the Kemendagri region codes (kode wilayah) of ``resources/regions.tsv``.

A name is found with or without a marker ("Kab. Bone", "Kota Bandung", "Pemkab Grobogan",
"Bupati Kediri", "Provinsi Jawa Tengah") and in its common short forms (Jabar, Jaksel,
Solo). A name that a kota and a kabupaten share (Bandung, Malang, Bekasi) is resolved by
its marker, else by the province the rest of the text and the bio name (Banjar: a kota in
Jawa Barat, a kabupaten in Kalimantan Selatan), else left at province level. A bare name
that is also a province's name (Jambi, Bengkulu, Yogyakarta) is the province.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

LEVELS = ("provinsi", "kabupaten", "kota")
# Words before a name that say which level it is.
_MARKERS = {
    "kabupaten": r"kabupaten(?: administrasi)?|kab\.?|pemkab|pemerintah kabupaten|bupati|wabup",
    "kota": r"kota(?: administrasi)?|pemkot|pemerintah kota|wali ?kota|walkot|wawali",
    "provinsi": r"provinsi|prov\.?|pemprov|pemerintah provinsi|gubernur",
}


@dataclass(frozen=True)
class Place:
    """One line of regions.tsv."""

    code: str  # "33" (provinsi) or "33.15" (kabupaten/kota)
    level: str  # one of LEVELS
    name: str  # official name: "Jawa Tengah", "Kabupaten Grobogan", "Kota Semarang"
    bare: bool  # whether the name counts without a marker

    @property
    def province_code(self) -> str:
        return self.code[:2]


@dataclass(frozen=True)
class Region:
    """Where an item is placed: always a province, a kabupaten/kota when one is named."""

    province_code: str
    province: str
    code: str | None  # the kabupaten/kota code, None at province level
    name: str | None  # the kabupaten/kota official name
    source: str  # "text" or "bio"


@dataclass(frozen=True)
class _Mention:
    start: int
    places: tuple[Place, ...]  # candidates, after the marker's level filter
    marked: bool


@cache
def places() -> dict[str, Place]:
    """Every region of regions.tsv by code, in code order (38 provinces, 514 kabupaten/kota)."""
    return {p.code: p for p, _ in _table()}


def province_name(code: str) -> str:
    """The official name of a province code ("33" -> "Jawa Tengah")."""
    return places()[code[:2]].name


@cache
def _table() -> tuple[tuple[Place, tuple[str, ...]], ...]:
    text = resources.files("netral_nlp.resources").joinpath("regions.tsv").read_text("utf-8")
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("# "):
            continue
        parts = line.split("\t")
        if len(parts) != 5 or parts[1] not in LEVELS or parts[4] not in ("0", "1"):
            raise ValueError(
                f"resources/regions.tsv:{lineno}: expected code<TAB>level<TAB>name<TAB>aliases<TAB>bare"
            )
        code, level, name, aliases, bare = parts
        place = Place(code, level, name, bare == "1")
        forms = [a for a in aliases.split("|") if a]
        if level == "provinsi":
            forms.insert(0, name.lower())
        rows.append((place, tuple(forms)))
    return tuple(rows)


@cache
def _index() -> tuple[re.Pattern[str], dict[str, tuple[Place, ...]]]:
    """One pattern for every name form (longest first, so "Bandung Barat" beats "Bandung"
    and "Jakarta Selatan" beats "Jakarta"), and the places each form names."""
    by_form: dict[str, list[Place]] = {}
    spellings: set[str] = set()
    for place, forms in _table():
        for form in forms:
            same = by_form.setdefault(_key(form), [])
            if place not in same:
                same.append(place)
            spellings.add(form)
    names = sorted(spellings, key=len, reverse=True)
    alternatives = "|".join(r"[\s-]?".join(map(re.escape, n.split())) for n in names)
    markers = "|".join(f"(?P<{lvl}>{rx})" for lvl, rx in _MARKERS.items())
    pattern = re.compile(rf"(?<!\w)(?:(?:{markers})\s+)?(?P<name>{alternatives})(?!\w)")
    return pattern, {k: tuple(v) for k, v in by_form.items()}


def _key(form: str) -> str:
    """A name form as the index keys it: lower case, hyphens and spaces dropped."""
    return re.sub(r"[\s-]+", "", form.lower())


def _mentions(text: str) -> list[_Mention]:
    pattern, by_form = _index()
    out = []
    for m in pattern.finditer(text.lower()):
        candidates = by_form[_key(m.group("name"))]
        level = next((lvl for lvl in LEVELS if m.group(lvl)), None)
        if level is not None:
            chosen = tuple(p for p in candidates if p.level == level)
            out.append(_Mention(m.start(), chosen or candidates, bool(chosen)))
            continue
        candidates = tuple(p for p in candidates if p.bare)
        provinces = tuple(p for p in candidates if p.level == "provinsi")
        if provinces:  # "Jambi", "Yogyakarta" alone: the province
            candidates = provinces
        if candidates:
            out.append(_Mention(m.start(), candidates, False))
    return out


def find_regions(text: str | None, bio: str | None = None) -> Region | None:
    """The region of an item: the first kabupaten/kota the text names, else the first
    province it names, else the same from the bio; None when neither names a place.

    >>> find_regions("Camat di Kab. Grobogan ikut kampanye").code
    '33.15'
    """
    found = {src: _mentions(t) for src, t in (("text", text), ("bio", bio)) if t}
    context = {
        m.places[0].province_code
        for mentions in found.values()
        for m in mentions
        if len({p.province_code for p in m.places}) == 1
    }
    for src in ("text", "bio"):
        resolved = [_resolve(m, context) for m in found.get(src, [])]
        resolved = [r for r in resolved if r is not None]
        for place in resolved:
            if place.level != "provinsi":
                return _region(place, src)
        if resolved:
            return _region(resolved[0], src)
    return None


def _resolve(mention: _Mention, context: set[str]) -> Place | None:
    """One place for a mention: the only candidate; else the candidates in the provinces
    named elsewhere; else their province when they share one; else None."""
    candidates = mention.places
    if len(candidates) > 1:
        in_context = tuple(p for p in candidates if p.province_code in context)
        candidates = in_context or candidates
    if len(candidates) == 1:
        return candidates[0]
    provinces = {p.province_code for p in candidates}
    if len(provinces) == 1:
        return places()[provinces.pop()]
    return None


def _region(place: Place, source: str) -> Region:
    prov = place.province_code
    if place.level == "provinsi":
        return Region(prov, place.name, None, None, source)
    return Region(prov, province_name(prov), place.code, place.name, source)
