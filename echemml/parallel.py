"""Fan-out of independent jobs (DFT labels, sampling) over processes or a dask cluster.

One function, :func:`map_unordered`, runs ``function(item, *shared)`` for every
item through a ``concurrent.futures.Executor`` — a local pool of spawned
processes by default, or a dask.distributed Client as it is — and yields each
(item, result) as it finishes, so that the caller can store results one at a
time and a stopped run keeps what finished.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def map_unordered(
    function: Callable[..., Any],
    items: Iterable[Any],
    *shared: Any,
    executor: concurrent.futures.Executor | object | None = None,
    workers: int | None = None,
) -> Iterator[tuple[Any, Any]]:
    """Yield (item, function(item, *shared)) for every item, in the order they finish.

    ``executor``: a ``concurrent.futures.Executor``, a dask.distributed Client
    (its ``get_executor()`` is used), or None for a local pool of ``workers``
    processes (default: the CPU count). With one worker and no executor the jobs
    run here, one after the other, in the order given. ``function`` and the
    arguments travel to the workers pickled.
    """
    if executor is not None and hasattr(executor, "get_executor"):
        executor = executor.get_executor()
    if executor is None and (workers or os.cpu_count() or 1) <= 1:
        for item in items:
            yield item, function(item, *shared)
        return
    own = executor is None
    # spawn, not fork: a forked child inherits torch's OpenMP thread pool in an unusable
    # state and hangs in its first parallel region
    pool = (
        concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        if own else executor
    )
    try:
        futures = {pool.submit(function, item, *shared): item for item in items}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
