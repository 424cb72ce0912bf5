"""Work over the rows of a pool in chunks sized by time, so that progress is reported about four times a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from sc_core.models.base import Progress

T = TypeVar("T")
CHUNK_SECONDS = 0.25  # each chunk takes about this long, then progress is reported
FIRST_CHUNK = 32
MAX_CHUNK = 20_000  # Model.predict's batch size


def chunked(n: int, work: Callable[[slice], T], progress: Progress | None = None) -> list[T]:
    """``work(rows)`` for consecutive slices of ``range(n)``, each sized from the last one's rate to take about
    CHUNK_SECONDS (at most 4 times the last, MAX_CHUNK rows), with ``progress(rows done, n)`` after each."""
    parts, start, size = [], 0, FIRST_CHUNK
    while start < n:
        began, stop = time.perf_counter(), min(start + size, n)
        parts.append(work(slice(start, stop)))
        if progress:
            progress(stop, n)
        rate = (stop - start) / max(time.perf_counter() - began, 1e-6)
        start, size = stop, int(np.clip(rate * CHUNK_SECONDS, 1, min(4 * size, MAX_CHUNK)))
    return parts
