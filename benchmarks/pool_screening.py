"""Screening the bundled pools with every model that applies, live and from the stored predictions (``sc pools``):
``python benchmarks/pool_screening.py [--pools s2s,3dsc,cod]``.

For each pool: seconds for ``screening.screen`` (what the Candidates page and ``sc screen`` run) predicting every
row live (the stored predictions hidden) and reading them, the longest wait between two progress reports, and the
largest difference between the two tables. The pool's chemistry columns are computed once first, so that neither
run pays the one-time set-up of a process (the SuperCon index, S2S space groups), which is timed on its own.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from unittest import mock

import numpy as np
import pandas as pd

from sc_core import models, screening
from sc_core.screening import batch, cache


def _timed_screen(pool: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, float, float]:
    """(table, seconds, longest wait in seconds between the start, each progress report and the end)."""
    stamps = [time.perf_counter()]
    table = screening.screen(pool, names, progress=lambda done, total: stamps.append(time.perf_counter()))
    stamps.append(time.perf_counter())
    return table, stamps[-1] - stamps[0], float(np.diff(stamps).max())


def _largest_difference(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """The largest absolute difference of the float columns, and whether every other column is equal."""
    floats = [c for c in a if a[c].dtype.kind == "f"]
    same = a.drop(columns=floats).equals(b.drop(columns=floats)) and list(a.columns) == list(b.columns)
    gaps = {c: np.nanmax(np.abs(a[c] - b[c]), initial=0.0) for c in floats}
    worst = max(gaps, key=gaps.__getitem__)
    return f"largest |difference| {gaps[worst]:.2g} ({worst}); other columns {'equal' if same else 'DIFFER'}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/pool_screening.py")
    parser.add_argument("--pools", default=",".join(screening.POOLS), help="comma-separated (default: all)")
    pools = parser.parse_args().pools.split(",")
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    for name in pools:
        pool = screening.load_pool(name)
        names = [m for m in models.available() if cache.applies(m, name)]
        for model in names:
            models.load(model)
        start = time.perf_counter()
        batch._describe(pool)
        print(f"\n{name}: {len(pool):,} rows, {', '.join(names)}; one-time set-up {time.perf_counter() - start:.1f} s")
        with mock.patch.object(cache, "stored", return_value=None):
            live, seconds, wait = _timed_screen(pool, names)
        print(f"    live      {seconds:7.1f} s   longest wait for progress {wait:5.1f} s", flush=True)
        stored, seconds, wait = _timed_screen(pool, names)
        print(f"    stored    {seconds:7.1f} s   longest wait for progress {wait:5.1f} s")
        start = time.perf_counter()
        screening.annotate(stored)
        print(f"    then screening.annotate (nearest known superconductors, domain), as the page "
              f"{time.perf_counter() - start:.1f} s")
        print(f"    {_largest_difference(live, stored)}")


if __name__ == "__main__":
    main()
