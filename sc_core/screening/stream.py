"""Screening a pool chunk by chunk in bounded memory: each chunk is screened and filtered, and only the shortlist
so far (at most `top` rows) and the rows no model could score are kept, so memory does not grow with the pool.

The result is the in-memory path's (:func:`~sc_core.screening.backends.screen`, then
:func:`~sc_core.screening.filters.apply_filters` and ``head(top)``) row for row: rows are numbered across chunks as
one table would number them, and the stable sort of :func:`apply_filters` over the shortlist so far followed by a
chunk keeps ties in pool order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from sc_core.io import InputError
from sc_core.screening.backends import screen
from sc_core.screening.filters import Filters, apply_filters


@dataclass(frozen=True)
class Screened:
    """What a screening keeps: the shortlist (passing rows, most likely first, at most `top`), every row no model
    could score (in pool order) and how many rows were screened."""

    shortlist: pd.DataFrame
    unscored: pd.DataFrame
    rows: int


def screen_chunks(chunks: Iterable[pd.DataFrame], model_names: list[str], filters: Filters, top: int | None = None,
                  progress: Callable[[int], None] | None = None) -> Screened:
    """Screen each pool chunk (:func:`~sc_core.screening.backends.screen`), keeping the `top` rows that pass
    `filters` (all of them without `top`) and the unscored rows; `progress` is told the rows screened so far, a few
    times a second."""
    shortlist: pd.DataFrame | None = None
    unscored: list[pd.DataFrame] = []
    rows = 0
    for pool in chunks:
        def step(done: int, total: int, before: int = rows, n: int = len(pool)) -> None:
            if progress:
                progress(before + done * n // max(total, 1))

        table = screen(pool, model_names, step).set_axis(pd.RangeIndex(rows, rows + len(pool)))
        rows += len(pool)
        merged = table if shortlist is None else pd.concat([shortlist, table])
        shortlist = apply_filters(merged, filters).head(top)
        unscored.append(table[table["p_sc"].isna()])
    if shortlist is None:
        raise InputError("The pool has no rows.")
    return Screened(shortlist, pd.concat(unscored), rows)
