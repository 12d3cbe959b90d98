"""Rewrite a lexicon's alternation so that Python's ``re`` tries it fast, matching the same.

Python's regex engine skips an alternative of a ``|`` in a few nanoseconds when it starts
with a literal character or a character class that the text does not have at that position;
an alternative that starts with anything else (a group, an optional group, a look-behind, a
repeat) is entered at every position the scan tries. A lexicon of a hundred entries with a
few dozen such openings made the detectors a third of the baseline's scoring time.

:func:`expand` rewrites one entry into alternatives that each start with a literal or a
class, without changing which text a match covers: a leading group is distributed
(``(?:a|b)x`` -> ``ax|bx``; ``(?:a|b)?x`` -> ``ax|bx|x``, the order a backtracking engine
tries them in), a leading class of plain characters is split (``[ab]x`` -> ``ax|bx``), and
a leading look-behind moves behind the first character (``(?<!p )x`` -> ``x(?<!p x)``).
Anything else is kept as written, which is always correct, only slower.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_META = frozenset(".^$*+?{}[]\\|()")
_QUANTIFIERS = frozenset("?*+{")
_REPEATED_CLASS = re.compile(r"(\\[dwsDWS])(?:\+|\{([2-9]|[1-9]\d)\})(?![?+])")
_MAX_ALTERNATIVES = 64  # an entry that would expand further is kept as written


def _skip_class(pattern: str, i: int) -> int:
    """Index just after the character class that opens at ``pattern[i] == "["``."""
    i += 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _structure(pattern: str, i: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, groups open before it) of each character of ``pattern`` from
    ``i`` on that stands outside escapes and character classes."""
    depth = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _skip_class(pattern, i)
            continue
        yield i, ch, depth
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        i += 1


def _close(pattern: str, i: int) -> int:
    """Index just after the group that opens at ``pattern[i] == "("``."""
    for j, ch, depth in _structure(pattern, i):
        if ch == ")" and depth == 1:
            return j + 1
    raise re.error(f"unbalanced parenthesis in {pattern!r}")


def split_top(pattern: str) -> list[str]:
    """The alternatives of ``pattern`` at its top level (outside groups and classes)."""
    parts, start = [], 0
    for i, ch, depth in _structure(pattern):
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


def _outside(cls: str, rest: str) -> bool:
    """Whether ``rest`` opens with a literal character that the class ``cls`` (``\\w``,
    ``\\d`` or ``\\s``) cannot match."""
    if not _literal_head(rest):
        return False
    c = rest[0]
    inside = {"\\w": c.isalnum() or c == "_", "\\d": c.isdecimal(), "\\s": c.isspace()}
    return not inside.get(cls, True)


def _literal_head(alternative: str) -> bool:
    """Whether ``alternative`` starts with one plain character that is not repeated."""
    return (
        bool(alternative) and alternative[0] not in _META and alternative[1:2] not in _QUANTIFIERS
    )


def expand(pattern: str) -> list[str]:
    """Alternatives equivalent to ``pattern`` (tried in this order), each opening with a
    literal character or a class where the rewrite rules allow."""
    parts = split_top(pattern)
    if len(parts) > 1:
        out = [alt for part in parts for alt in expand(part)]
        return out if len(out) <= _MAX_ALTERNATIVES else parts
    if pattern.startswith(("(?<!", "(?<=")):
        end = _close(pattern, 0)
        head, body = pattern[:end], pattern[end:]
        rest = expand(body)
        if not all(_literal_head(alt) for alt in rest):
            return [pattern]
        # (?<!X)cY matches where (?<!Xc) holds just after c: the same positions
        return [f"{alt[0]}{head[:4]}(?:{head[4:-1]}){re.escape(alt[0])}){alt[1:]}" for alt in rest]
    if pattern.startswith("(?:"):
        end = _close(pattern, 0)
        inner, tail = pattern[3 : end - 1], pattern[end:]
        optional = tail[:1] == "?" and tail[1:2] not in ("?", "+")
        if optional:
            tail = tail[1:]
        elif tail[:1] in _QUANTIFIERS:
            return [pattern]
        if tail[:1] in _QUANTIFIERS:  # a quantifier after the group's own: keep it
            return [pattern]
        heads = split_top(inner)
        out = [alt for head in heads for alt in expand(head + tail)]
        if optional:
            out += expand(tail) if tail else [""]
        return out if len(out) <= _MAX_ALTERNATIVES else [pattern]
    repeat = _REPEATED_CLASS.match(pattern)
    if repeat:  # \w+ -> \w\w*, \d{8} -> \d\d{7}: one class, then the rest
        cls, count = repeat.group(1), repeat.group(2)
        if count is None:
            # possessive when the next character cannot be the class's: giving characters
            # back could never let it match, so the scan needs not try
            more = f"{cls}*+" if _outside(cls, pattern[repeat.end() :]) else f"{cls}*"
        else:
            more = cls if count == "2" else f"{cls}{{{int(count) - 1}}}"
        return [cls + more + pattern[repeat.end() :]]
    if pattern.startswith("[") and not pattern.startswith("[^"):
        end = _skip_class(pattern, 0)
        chars, tail = pattern[1 : end - 1], pattern[end:]
        if tail[:1] in _QUANTIFIERS or any(c in _META or c == "-" for c in chars):
            return [pattern]
        return [alt for c in chars for alt in expand(re.escape(c) + tail)]
    return [pattern]


def trie(alternatives: list[str]) -> str:
    """The alternation of ``alternatives`` (tried in this order) with shared leading
    characters factored out, ``camat|caleg|kades`` -> ``ca(?:mat|leg)|kades``, so that a
    position is tested against a few first characters rather than every entry.

    Alternatives that do not open with a plain character stay where they are; as they may
    match where a later entry with any first character would, they close the groups
    before them, and an entry after them starts a new group: each character still sees
    its entries in the original order."""
    items: list[tuple[str | None, list[str]]] = []
    open_groups: dict[str, list[str]] = {}
    for alt in alternatives:
        if _literal_head(alt):
            group = open_groups.get(alt[0])
            if group is None:
                group = open_groups[alt[0]] = []
                items.append((alt[0], group))
            group.append(alt[1:])
        else:
            items.append((None, [alt]))
            open_groups.clear()
    parts = []
    for head, rests in items:
        if head is None:
            parts.append(rests[0])
        elif len(rests) == 1:
            parts.append(head + rests[0])
        else:
            parts.append(f"{head}(?:{trie(rests)})")
    return "|".join(parts)


def alternation(entries: list[str]) -> str:
    """One alternation of ``entries``, in order, rewritten by :func:`expand` and
    :func:`trie`: it matches what ``"|".join(entries)`` matches."""
    return trie([alt for entry in entries for alt in expand(entry)])


def any_of(entries: list[str]) -> str:
    """An alternation that matches where one of ``entries`` matches, though not always the
    same text (the order is its own: every entry that opens with a literal first, in one
    :func:`trie`), for a test of whether any matches."""
    alternatives = [alt for entry in entries for alt in expand(entry)]
    literal = [alt for alt in alternatives if _literal_head(alt)]
    return trie(literal + [alt for alt in alternatives if not _literal_head(alt)])
