"""Driving a server with N client threads: the part every HTTP bench shares."""

import itertools
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any


def drive(
    clients: int,
    count: int,
    new_session: Callable[[], Any],
    send: Callable[[Any, int], tuple[int, Any]],
    ok_status: int,
) -> dict:
    """``count`` requests from ``clients`` threads; wall time from a common start to the last answer.

    ``new_session()`` prepares one client (cookies, headers) before the start; ``send(session, i)``
    makes request number ``i`` and returns ``(status, body)``.
    """
    lock = threading.Lock()
    taken = itertools.count()
    start = threading.Barrier(clients + 1)
    results: list[tuple[int, float, Any]] = []

    def client() -> None:
        session = new_session()
        start.wait()
        while True:
            with lock:
                index = next(taken)
            if index >= count:
                break
            began = time.perf_counter()
            status, body = send(session, index)
            elapsed = time.perf_counter() - began
            with lock:
                results.append((status, elapsed, body))
        session.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies = sorted(r[1] for r in results)
    return {
        "wall": wall,
        "results": results,
        "ok": [r for r in results if r[0] == ok_status],
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
    }
