"""Doing one thing for every student at once: a thread pool, results in roster order.

The work function reports a student's own failure in its result; only an unreachable
cluster (`ClusterUnreachable`) stops the whole run, as it stops every command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKERS = 16
"""Requests in flight at once: the API server, not this machine's cores, sets the pace."""


def for_each(items: Iterable[T], work: Callable[[T], R], workers: int = WORKERS) -> list[R]:
    """`work(item)` for every item, `workers` at a time; the results in the items' order."""
    items = list(items)
    if not items:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(items))),
                              thread_name_prefix="rwk-classroom")
    try:
        futures = [pool.submit(work, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
