"""Screening a pool chunk by chunk in bounded memory: each chunk is screened and filtered, and only the rows that
pass (with `top`, the best `top` so far) and the rows no model could score are kept, so memory grows with the
shortlist, not with the pool.

The result is the in-memory path's (:func:`~sc_core.screening.backends.screen`, then
:func:`~sc_core.screening.filters.apply_filters` and ``head(top)``) row for row: rows are numbered across chunks as
one table would number them, and the stable sort of :func:`apply_filters` over the shortlist so far followed by a
chunk's passing rows keeps ties in pool order.
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
    passing: list[pd.DataFrame] = []  # each chunk's passing rows; with `top`, one frame of the best so far
    unscored: list[pd.DataFrame] = []
    rows = 0
    for pool in chunks:
        def step(done: int, total: int, before: int = rows, n: int = len(pool)) -> None:
            if progress:
                progress(before + done * n // max(total, 1))

        table = screen(pool, model_names, step).set_axis(pd.RangeIndex(rows, rows + len(pool)))
        rows += len(pool)
        passing.append(apply_filters(table, filters))
        unscored.append(table[table["p_sc"].isna()])
        if top is not None:  # filtering passing rows again keeps them all, and orders them as one table
            passing = [apply_filters(pd.concat(passing), filters).head(top)]
    if not passing:
        raise InputError("The pool has no rows.")
    return Screened(apply_filters(pd.concat(passing), filters).head(top), pd.concat(unscored), rows)
