"""Coalesce concurrent single-item requests into one model call.

A model call has a fixed cost (feature assembly, matrix set-up) that a batch shares: for
the baseline one text costs ~2.4 ms alone and ~0.6 ms in a batch of 16. No timer waits
for company: a lone request is scored at once, and whatever arrives meanwhile forms the
next batch. One batch runs at a time, in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """``await submit(item)`` answers ``fn([... item ...])[i]`` for that item.

    ``fn`` maps a list of items to a list of results of the same length and order. A batch
    holds at most ``max_items`` items and, past its first item, at most ``max_chars``
    characters as measured by ``size``.
    """

    def __init__(
        self,
        fn: Callable[[Sequence[T]], list[R]],
        size: Callable[[T], int],
        limiter: anyio.CapacityLimiter,
        max_items: int = 32,
        max_chars: int = 200_000,
    ) -> None:
        self._fn = fn
        self._size = size
        self._limiter = limiter
        self._max_items = max_items
        self._max_chars = max_chars
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    def _next_batch(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        chars = 0
        while self._pending and len(batch) < self._max_items:
            item, future = self._pending[0]
            chars += self._size(item)
            if batch and chars > self._max_chars:
                break
            self._pending.pop(0)
            if not future.done():  # a cancelled request is not scored
                batch.append((item, future))
        return batch

    async def _drain(self) -> None:
        while self._pending:
            batch = self._next_batch()
            if not batch:
                continue
            try:
                results = await anyio.to_thread.run_sync(
                    self._fn, [item for item, _ in batch], limiter=self._limiter
                )
            except Exception as exc:  # every waiter of this batch gets the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
