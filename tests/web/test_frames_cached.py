"""frames.cached builds a value once per data generation, also when many requests ask at the same moment."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from gunmane.web.registry import frames


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    frames.clear_cache()
    yield
    frames.clear_cache()


def ask_together(n: int, build: Any, generation: tuple[Any, ...] = (1,)) -> list[Any]:
    results: list[Any] = [None] * n
    start = threading.Barrier(n)

    def ask(i: int) -> None:
        start.wait()
        try:
            results[i] = frames.cached("test", generation, ("k",), build)
        except Exception as e:  # noqa: BLE001 — the test looks at what each thread got
            results[i] = e

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_eight_requests_at_once_build_the_value_once() -> None:
    calls = []

    def build() -> dict[str, int]:
        calls.append(1)
        time.sleep(0.3)  # long enough for every thread to arrive while the first builds
        return {"value": 42}

    results = ask_together(8, build)
    assert len(calls) == 1
    assert all(r is results[0] for r in results) and results[0] == {"value": 42}
    assert frames.cached("test", (1,), ("k",), build) is results[0] and len(calls) == 1
    # a new generation (the data changed) builds again, once
    assert frames.cached("test", (2,), ("k",), build) == {"value": 42} and len(calls) == 2


def test_a_failed_build_does_not_leave_the_others_waiting() -> None:
    calls = []

    def build() -> str:
        calls.append(1)
        time.sleep(0.2)
        if len(calls) == 1:
            raise RuntimeError("the first build fails")
        return "built"

    results = ask_together(4, build)
    assert sum(isinstance(r, RuntimeError) for r in results) == 1
    assert [r for r in results if not isinstance(r, RuntimeError)] == ["built"] * 3
    assert len(calls) == 2  # one failure, then one waiter built it for the rest
