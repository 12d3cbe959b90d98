"""Indonesian social-media text normalisation: the one preprocessing path.

Training, batch scoring and the service all call :func:`tokenize` / :func:`normalise`;
``PREPROCESS_VERSION`` is stored in every saved model and checked at load time, so a
model never meets text prepared differently from its training data.

Every output token keeps the character span of the original text it came from, which
is how evidence n-grams are mapped back to what the monitor actually sees.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

# Bump on any change to tokens, normalisation or the signal features: saved models record it.
PREPROCESS_VERSION = "1.2"
STEM_CACHE_SIZE = 200_000
CHUNK_CACHE_SIZE = 200_000  # space-free chunks of text whose tokens are cached
MAX_CACHED_CHUNK = 64  # longer chunks (a URL, a text without spaces) are not cached

URL_TOKEN = "__url__"
MENTION_TOKEN = "__mention__"
NUMBER_TOKEN = "__num__"
NIP_TOKEN = "__nip__"
HASHTAG_TOKEN = "__hashtag__"

# Gestures and emoji that carry political meaning become words; others are dropped.
EMOJI_TOKENS: dict[str, str] = {
    "☝": "gestur_satu_jari",
    "✌": "gestur_dua_jari",
    "🤟": "gestur_tiga_jari",
    "🖐": "gestur_lima_jari",
    "✋": "gestur_lima_jari",
    "👌": "gestur_ok",
    "👍": "emo_jempol",
    "👎": "emo_jempol_bawah",
    "💪": "emo_semangat",
    "🔥": "emo_semangat",
    "🙏": "emo_mohon",
    "❤": "emo_cinta",
    "😍": "emo_cinta",
    "🥰": "emo_cinta",
    "😂": "emo_tawa",
    "🤣": "emo_tawa",
    "😅": "emo_tawa",
    "😡": "emo_marah",
    "🤬": "emo_marah",
    "🇮🇩": "emo_bendera",
    "🗳": "emo_kotak_suara",
    "📢": "emo_pengumuman",
    "👉": "emo_tunjuk",
}

_GESTURE_NUMBERS = {"1": "satu", "2": "dua", "3": "tiga", "4": "empat", "5": "lima"}
_GESTURE_NUMBERS |= {v: v for v in _GESTURE_NUMBERS.values()}

_TOKEN_RE = re.compile(
    r"(?P<url>(?:https?://|www\.)\S+|(?=\w+\.\w)\b(?>[a-z0-9-]+\.)+(?:com|id|net|org|ly|me)/\S*)"
    r"|(?P<mention>@\w{2,})"
    r"|(?P<hashtag>#\w+)"
    r"|(?P<keycap>[0-9]\ufe0f?\u20e3)"
    r"|(?P<redup>[^\W\d_]{2,}2)(?![\w])"
    r"|(?P<number>\d[\d.,]*\d|\d)"
    r"|(?P<word>[^\W\d_]+(?:[-'][^\W\d_]+)*(?:-\d+)?|[^\W_]+)"
    r"|(?P<emoji>[\U0001F1E6-\U0001F1FF]{2}|[\u2600-\u27BF\U0001F300-\U0001FAFF]\ufe0f?)",
    re.IGNORECASE,
)
_ELONGATION_RE = re.compile(r"([a-z])\1{2,}")
_CAMEL_RE = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|[A-Z]+|\d+")


class Token(NamedTuple):
    """One normalised token: ``norm`` is the surface form, ``stem`` its Sastrawi stem,
    ``start:end`` the span of the original text it came from."""

    norm: str
    stem: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _slang() -> dict[str, str]:
    table: dict[str, str] = {}
    text = resources.files("netral_nlp.resources").joinpath("slang.tsv").read_text("utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        informal, _, standard = line.partition("\t")
        table[informal.strip()] = standard.strip()
    return table


@lru_cache(maxsize=1)
def _hashtag_words() -> frozenset[str]:
    text = resources.files("netral_nlp.resources").joinpath("hashtag_words.txt").read_text("utf-8")
    words = {w for line in text.splitlines() if not line.startswith("#") for w in line.split()}
    return frozenset(words)


def _segment(body: str) -> list[str]:
    """Split a lower-case hashtag into known words with the fewest pieces, or keep it whole."""
    vocab = _hashtag_words()
    best: list[list[str] | None] = [[]] + [None] * len(body)
    for end in range(1, len(body) + 1):
        for start in range(max(0, end - 14), end - 1):
            piece = body[start:end]
            prev = best[start]
            if prev is not None and (piece in vocab or piece.isdigit()):
                if best[end] is None or len(prev) + 1 < len(best[end]):
                    best[end] = [*prev, piece]
    return best[-1] or [body]


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=STEM_CACHE_SIZE)
def stem(word: str) -> str:
    """Sastrawi stem of one lower-case word, cached (bounded) because stemming is slow."""
    if len(word) <= 3 or not word.isalpha():
        return word
    return _stemmer().stem(word) or word


def _split_hashtag(tag: str) -> list[str]:
    """``#2024GantiPresiden`` -> ["2024", "ganti", "presiden"]; lower-case tags stay whole."""
    body = tag.lstrip("#")
    if not body.islower():
        return [p.lower() for p in _CAMEL_RE.findall(body)]
    return [w for part in re.findall(r"[^\W\d_]+|\d+", body) for w in _segment(part)]


@lru_cache(maxsize=STEM_CACHE_SIZE)
def _word_forms(word: str) -> tuple[tuple[str, str], ...]:
    """(norm, stem) pairs of one raw word; cached because words repeat across a feed."""
    return tuple(
        (form, stem(form)) for form in _normalise_word(unicodedata.normalize("NFKC", word))
    )


def _normalise_word(word: str) -> list[str]:
    w = _ELONGATION_RE.sub(r"\1", word.lower())
    if w.endswith("2") and w[:-1].isalpha():  # "anak2" is the reduplication "anak-anak"
        w = f"{w[:-1]} {w[:-1]}"
    out: list[str] = []
    for piece in w.split():
        out.extend(_slang().get(piece, piece).split())
    return out


def _normalise_number(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 18:
        return NIP_TOKEN
    if len(digits) <= 2:
        return str(int(digits))  # "02" and "2" mean the same candidate number
    return NUMBER_TOKEN


def _scan(text: str) -> list[Token]:
    """Tokens of ``text`` before gestures are merged: the tokenizer itself."""
    tokens: list[Token] = []
    append = tokens.append
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup
        raw = match.group(0)
        start, end = match.span()
        if kind == "word" or kind == "redup":  # the common case, fully cached
            for norm, st in _word_forms(raw):
                append(Token(norm, st, start, end))
            continue
        if kind == "url":
            forms = [URL_TOKEN]
        elif kind == "mention":
            forms = [MENTION_TOKEN]
        elif kind == "hashtag":
            forms = [HASHTAG_TOKEN] + [
                _normalise_number(p) if p.isdigit() else w
                for p in _split_hashtag(unicodedata.normalize("NFKC", raw))
                for w in (_normalise_word(p) if not p.isdigit() else [p])
            ]
        elif kind == "keycap":  # 1️⃣ is the digit 1
            forms = [raw[0]]
        elif kind == "number":
            forms = [_normalise_number(raw)]
        elif kind == "emoji":
            forms = (
                [EMOJI_TOKENS[raw[0]]]
                if raw[0] in EMOJI_TOKENS
                else (["emo_bendera"] if raw == "🇮🇩" else [])
            )
        else:
            forms = []
        for form in forms:
            append(Token(form, stem(form), start, end))
    return tokens


class TokenColumns(NamedTuple):
    """The tokens of a text as four parallel lists (what the featurizers read)."""

    norms: list[str]
    stems: list[str]
    starts: list[int]
    ends: list[int]


@lru_cache(maxsize=CHUNK_CACHE_SIZE)
def _chunk(chunk: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[int, ...]]:
    """Columns of the tokens of one space-free chunk of text, offsets from its start."""
    tokens = _scan(chunk)
    return (
        tuple(t.norm for t in tokens),
        tuple(t.stem for t in tokens),
        tuple(t.start for t in tokens),
        tuple(t.end for t in tokens),
    )


def token_columns(text: str) -> TokenColumns:
    """:func:`tokenize` as columns, several times faster on a feed.

    No token contains a space, and no pattern of the tokenizer looks across one (a space
    and the end of the text look alike to each), so the text is tokenized chunk by chunk
    between spaces, and each chunk's tokens are cached: a feed repeats its words."""
    norms: list[str] = []
    stems: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for chunk in text.split(" "):
        if chunk:
            n, s, a, b = _chunk(chunk) if len(chunk) <= MAX_CACHED_CHUNK else _columns(chunk)
            norms += n
            stems += s
            if len(a) == 1:
                starts.append(pos + a[0])
                ends.append(pos + b[0])
            else:
                starts += [pos + x for x in a]
                ends += [pos + x for x in b]
        pos += len(chunk) + 1
    if "jari" in text.lower():
        tokens = _merge_gestures([Token(*t) for t in zip(norms, stems, starts, ends, strict=True)])
        return TokenColumns(
            [t.norm for t in tokens],
            [t.stem for t in tokens],
            [t.start for t in tokens],
            [t.end for t in tokens],
        )
    return TokenColumns(norms, stems, starts, ends)


def _columns(
    chunk: str,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[int, ...]]:
    """:func:`_chunk` without its cache, for a chunk too long to be worth keeping."""
    return _chunk.__wrapped__(chunk)


def tokenize(text: str) -> list[Token]:
    """Normalise ``text`` into tokens with spans into the original string.

    NFKC is applied per token, never to the whole text, so spans index the caller's
    own string (the service highlights evidence with them).
    """
    return [Token(*t) for t in zip(*token_columns(text), strict=True)]


def _merge_gestures(tokens: list[Token]) -> list[Token]:
    """ "2 jari", "dua jari" (as in "salam 2 jari") -> one gestur_dua_jari token."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is not None and nxt.norm == "jari" and tok.norm in _GESTURE_NUMBERS:
            name = f"gestur_{_GESTURE_NUMBERS[tok.norm]}_jari"
            out.append(Token(name, name, tok.start, nxt.end))
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def normalise(text: str, stemmed: bool = True) -> str:
    """Space-joined normalised tokens of ``text`` (stems by default)."""
    tokens = tokenize(text)
    return " ".join(t.stem if stemmed else t.norm for t in tokens)


_ALNUM_RE = re.compile(r"[^\W_]")  # a letter or digit: str.isalnum, one character

# A sentence ends at . ! ? (with any closing quotes or brackets) or a line break, unless the
# mark is glued to the next word ("1.000", "KOMPAS.com", "No.2") or a period follows an
# abbreviation ("Kab. Maros", "Hj. Ratna", "No. 2", "Dr. Ir.").
# (Written to open with a class, so a search skips to the next mark at C speed; it matches
# what [.!?]+["'”’)\]]*(?![\w])|\n matches.)
_BOUNDARY_RE = re.compile(r"[.!?\n](?:(?<=\n)|(?<=[.!?])[.!?]*[\"'”’)\]]*(?![\w]))")
_ABBREVIATIONS = frozenset(
    "kab kec kel prov kota desa ds kp no nomor dr drs ir h hj jl st sdr bpk ibu ny tn dll dsb "
    "tsb yth a.n an kh prof s.pd s.h m.si spd pol purn brigjen kombes akbp kompol ipda iptu "
    "bripka aipda aiptu letkol kol mayjen irjen sekda pj plt plh".split()
)


def sentences(text: str, max_chars: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of the sentences of ``text``, whitespace trimmed, in order; only spans
    that hold a letter or digit. With ``max_chars``, longer sentences are cut into pieces of
    at most that many characters on word boundaries (posts without punctuation stay
    scoreable sentence by sentence). The one splitter of the package: signals, evidence,
    the baseline's sentence scorer and the transformer's windows use it."""
    raw: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        if m.group(0).startswith(".") and len(m.group(0).rstrip("\"'”’)]")) == 1:
            before = text[max(0, m.start() - 8) : m.start()].rsplit(None, 1)[-1:] or [""]
            if before[0].lower() in _ABBREVIATIONS:
                continue
        raw.append((start, m.end()))
        start = m.end()
    raw.append((start, len(text)))
    out: list[tuple[int, int]] = []
    for s, e in raw:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        while max_chars is not None and e - s > max_chars:
            cut = text.rfind(" ", s, s + max_chars)
            cut = cut if cut > s else s + max_chars
            out.append((s, cut))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        if s < e:
            out.append((s, e))
    return [(s, e) for s, e in out if _ALNUM_RE.search(text, s, e)]
