"""From a fetched page to an article: decode the bytes, then title, date and main text."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from .fetch import FetchError, Page

# WHATWG: these labels mean windows-1252 in a browser, and pages are written for browsers.
_AS_CP1252 = {"iso-8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "iso8859-1"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


@dataclass
class Article:
    """What the service scores and shows for a URL."""

    url: str
    title: str | None
    date: str | None  # ISO date as found in the page's metadata
    text: str


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_page(page: Page) -> str:
    """The page's text: BOM, then declared charset (header, then <meta>), then UTF-8."""
    body = page.body
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    codec = _codec(page.charset)
    if codec is None and page.media_type != "text/plain":
        match = _META_CHARSET.search(body[:4096])
        codec = _codec(match.group(1).decode("ascii")) if match else None
    return body.decode(codec or "utf-8", errors="replace")


def extract_article(page: Page) -> Article:
    """Title, publish date and main text of a page; FetchError ``url_no_text`` if none."""
    text = decode_page(page)
    if page.media_type == "text/plain":
        article = Article(page.url, None, None, text.strip())
    else:
        import trafilatura  # ~0.3 s to import: only when a URL is scored

        doc = trafilatura.bare_extraction(
            text, url=page.url, with_metadata=True, include_comments=False
        )
        if doc is None:
            article = Article(page.url, None, None, "")
        else:
            article = Article(
                page.url, doc.title or None, doc.date or None, (doc.text or "").strip()
            )
    if not article.text:
        raise FetchError("url_no_text", "no article text was found at this URL")
    return article
