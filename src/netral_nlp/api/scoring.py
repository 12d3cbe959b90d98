"""Scoring for the service: texts and URLs in, contract rows out, flagged items queued.

Rows are ``Prediction.row()`` (the one definition of the output row) validated into the
``ScoreRow`` schema, so the response cannot drift from the contract or the span kinds.

The model runs in worker threads (never on the event loop) behind a gate: requests past
``max_inflight`` are answered 503 at once instead of piling up, so ``/healthz`` and the
page stay responsive while scoring runs. Concurrent single texts share model calls
(batching.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from ..model import Classifier
from .addresses import Resolver, system_resolver
from .batching import MicroBatcher
from .errors import ApiError
from .extract import Article, extract_article
from .fetch import FetchConfig, FetchError, fetch_page
from .queue import NewItem, QueueError, ReviewQueue
from .schemas import ScoreRow, UrlScoreRow
from .settings import Settings


@dataclass
class TextItem:
    """One text to score, with what the queue should remember of its origin."""

    id: Any
    text: str
    author_context: str | None = None
    queue: bool = True  # queue it for review when flagged
    url: str | None = None
    title: str | None = None


class Gate:
    """Admits at most ``size`` holders at once; one more is refused, not queued.

    Used from the event loop only, so a counter is enough.
    """

    def __init__(self, size: int, retry_after_s: int) -> None:
        self._free = size
        self._retry_after = str(retry_after_s)

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        if self._free <= 0:
            raise ApiError(
                "overloaded",
                "the service is at its concurrency limit; retry shortly",
                headers={"Retry-After": self._retry_after},
            )
        self._free -= 1
        try:
            yield
        finally:
            self._free += 1


class Scorer:
    """The model, the queue and the limits, shared by the API and the page."""

    def __init__(
        self,
        classifier: Classifier,
        queue: ReviewQueue,
        settings: Settings,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.classifier = classifier
        self.queue = queue
        self.model_id = classifier.manifest.model_id
        self.resolver = resolver
        self.fetch_config = FetchConfig(
            allow=tuple(settings.fetch_allow),
            ports=tuple(settings.fetch_ports),
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.fetch_max_bytes,
            max_redirects=settings.fetch_max_redirects,
        )
        self._threads = anyio.CapacityLimiter(settings.score_threads)
        self._scoring = Gate(settings.max_inflight, settings.retry_after_s)
        self._fetching = Gate(settings.max_fetches, settings.retry_after_s)
        self._batcher: MicroBatcher[TextItem, ScoreRow] = MicroBatcher(
            self._score_sync, lambda item: len(item.text), self._threads
        )

    def warm_up(self) -> None:
        """Score one text so the first request does not pay for lazy initialisation."""
        self.classifier.predict(["ASN ikut kampanye paslon"], [None])

    async def score_one(self, item: TextItem) -> ScoreRow:
        """The contract row of one text, scored together with concurrent requests."""
        with self._scoring.admit():
            return await self._batcher.submit(item)

    async def score_texts(self, items: Sequence[TextItem]) -> list[ScoreRow]:
        """Contract rows of a batch request, in input order."""
        with self._scoring.admit():
            return await anyio.to_thread.run_sync(self._score_sync, items, limiter=self._threads)

    async def score_url(
        self, url: str, author_context: str | None, item_id: Any, queue: bool
    ) -> UrlScoreRow:
        """Fetch, extract and score a page; the row adds url, title, date and text."""
        try:
            with self._fetching.admit():
                page = await fetch_page(url, self.fetch_config, self.resolver)
            article: Article = await anyio.to_thread.run_sync(
                extract_article, page, limiter=self._threads
            )
        except FetchError as exc:
            raise ApiError(exc.code, exc.message) from None
        item = TextItem(item_id, article.text, author_context, queue, article.url, article.title)
        row = await self.score_one(item)
        return UrlScoreRow(
            **dict(row),
            url=article.url,
            title=article.title,
            date=article.date,
            text=article.text,
        )

    def _score_sync(self, items: Sequence[TextItem]) -> list[ScoreRow]:
        preds = self.classifier.predict([i.text for i in items], [i.author_context for i in items])
        rows = []
        for item, pred in zip(items, preds, strict=True):
            row = ScoreRow.model_validate(pred.row(item.id, self.model_id))
            if item.queue and pred.flag:
                row.queue_id = self._enqueue(item, row)
            rows.append(row)
        return rows

    def _enqueue(self, item: TextItem, row: ScoreRow) -> str:
        new = NewItem(
            text=item.text,
            score=row.score,
            categories=list(row.categories),
            category_scores=row.category_scores,
            evidence_spans=[s.model_dump() for s in row.evidence_spans],
            model=self.model_id,
            author_context=item.author_context,
            url=item.url,
            title=item.title,
        )
        try:
            return self.queue.add(new)
        except QueueError as exc:
            raise ApiError(exc.code, exc.message, headers={"Retry-After": "1"}) from None
