"""map_unordered: every item once, with its result, in-process or through an executor."""

from __future__ import annotations

import concurrent.futures
import os

from echemml.parallel import map_unordered


def _power(base: int, exponent: int) -> tuple[int, int]:
    return base**exponent, os.getpid()


def test_one_worker_runs_in_order_in_this_process():
    results = list(map_unordered(_power, [3, 1, 2], 2, workers=1))
    assert [item for item, _ in results] == [3, 1, 2]
    assert [value for _, (value, _) in results] == [9, 1, 4]
    assert {pid for _, (_, pid) in results} == {os.getpid()}


def test_an_executor_returns_every_item_with_its_own_result():
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(map_unordered(_power, range(10), 3, executor=pool))
    assert {item: value for item, (value, _) in results.items()} == {i: i**3 for i in range(10)}


def test_a_process_pool_runs_items_in_other_processes():
    results = dict(map_unordered(_power, [2, 5], 2, workers=2))
    assert {item: value for item, (value, _) in results.items()} == {2: 4, 5: 25}
    assert os.getpid() not in {pid for _, pid in results.values()}
