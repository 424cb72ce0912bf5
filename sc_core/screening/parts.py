"""A pool file screened as N shards in parallel Ray tasks: each task reads only its own shard of the file
(:func:`~sc_core.screening.tables.read_chunks`), screens it chunk by chunk (:func:`~sc_core.screening.stream.
screen_chunks`) and writes its shortlist and unscored rows as Parquet part files; the driver ships no pool rows and
merges the parts into the result of screening the file in one process, row for row.

The pool file and the parts folder must be visible to every worker at the same path (one machine, or a shared
filesystem on a cluster).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sc_core.io import InputError
from sc_core.screening.backends import ray_module
from sc_core.screening.filters import Filters, apply_filters
from sc_core.screening.stream import Screened, screen_chunks
from sc_core.screening.tables import read_chunks


def screen_shard(path: str, index: int, count: int, model_names: list[str], filters: Filters, top: int | None,
                 parts_dir: str) -> int:
    """Screen shard `index` of `count` of the pool file at `path` and write its passing rows (at most `top`) and
    its unscored rows to `parts_dir`; returns the rows screened (0 for an empty shard, which writes nothing)."""
    chunks = read_chunks(path, shard=(index, count))
    first = next(chunks, None)
    if first is None:
        return 0
    screened = screen_chunks([first, *chunks], model_names, filters, top)
    for kind, table in (("shortlist", screened.shortlist), ("unscored", screened.unscored)):
        table.to_parquet(_part(parts_dir, index, kind))
    return screened.rows


def merge(parts_dir: str, rows: list[int], filters: Filters, top: int | None) -> Screened:
    """The parts of shards 0..N-1 (with `rows` screened in each) as one result: rows renumbered across shards, the
    shortlists ranked together (ties in pool order), the unscored rows in pool order."""
    if not any(rows):
        raise InputError("The pool has no rows.")
    shortlists: list[pd.DataFrame] = []
    unscored: list[pd.DataFrame] = []
    offset = 0
    for index, n in enumerate(rows):
        if n:
            for kind, tables in (("shortlist", shortlists), ("unscored", unscored)):
                table = pd.read_parquet(_part(parts_dir, index, kind))
                tables.append(table.set_axis(table.index + offset))
        offset += n
    return Screened(apply_filters(pd.concat(shortlists), filters).head(top), pd.concat(unscored), offset)


def screen_parts(path: str, model_names: list[str], filters: Filters, top: int | None, parts_dir: str,
                 n_tasks: int = 8, progress: Callable[[int], None] | None = None) -> Screened:
    """Screen the pool file at `path` as `n_tasks` Ray tasks (a running cluster at ``RAY_ADDRESS``, or a local
    one), writing part files to `parts_dir`; `progress` is told the rows screened as each task ends."""
    if n_tasks < 1:
        raise InputError(f"--tasks must be at least 1, not {n_tasks}.")
    ray = ray_module()
    task = ray.remote(screen_shard)
    path, parts_dir = str(Path(path).resolve()), str(Path(parts_dir).resolve())
    futures = [task.remote(path, i, n_tasks, model_names, filters, top, parts_dir) for i in range(n_tasks)]
    rows = [0] * n_tasks
    pending = dict(zip(futures, range(n_tasks), strict=True))
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        rows[pending.pop(done[0])] = ray.get(done[0])
        if progress:
            progress(sum(rows))
    return merge(parts_dir, rows, filters, top)


def _part(parts_dir: str, index: int, kind: str) -> Path:
    return Path(parts_dir) / f"part-{index:05d}.{kind}.parquet"
