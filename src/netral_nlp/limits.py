"""Size limits on text: one policy, named in every error that enforces it.

- ``MAX_TEXT_CHARS``: the longest ``text`` (or ``author_context``) accepted anywhere: the
  feed readers send a longer row to the error file, the service answers 413. A long news
  article is about 10,000 characters; 100,000 leaves room for a whole page pasted twice.
- ``MAX_SCORED_CHARS``: what a model reads of an accepted text. Equal to the input limit,
  so what is accepted is read whole; models cut at it only when called directly from
  Python with longer strings.
"""

from __future__ import annotations

MAX_TEXT_CHARS = 100_000
MAX_SCORED_CHARS = MAX_TEXT_CHARS
MAX_URL_CHARS = 2_048


def too_long(name: str, value: str, limit: int = MAX_TEXT_CHARS) -> str | None:
    """The error message when ``value`` is over ``limit`` characters, else None."""
    if len(value) > limit:
        return (
            f"field {name!r} has {len(value):,} characters, over the text limit of "
            f"{limit:,} (netral_nlp.limits.MAX_TEXT_CHARS)"
        )
    return None
