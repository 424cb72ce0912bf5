"""Where a screening runs: in this process, or split into Ray tasks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sc_core.io import InputError, quote
from sc_core.screening.batch import Progress, screen_batch, steps


def screen(pool: pd.DataFrame, model_names: list[str], progress: Progress | None = None,
           backend: str = "local", n_tasks: int = 8) -> pd.DataFrame:
    """:func:`~sc_core.screening.batch.screen_batch` over a whole pool, in this process or in `n_tasks` Ray tasks.

    ``backend="ray"`` joins a running Ray cluster (``RAY_ADDRESS``) or starts a local one; Ray is an
    optional dependency (``pip install ray``). Row order is kept either way.
    """
    if backend == "local":
        return screen_batch(pool, model_names, progress)
    if backend != "ray":
        raise InputError(f"Unknown backend {quote(backend)}; choose local or ray.")
    ray = ray_module()
    task = ray.remote(screen_batch)
    parts = [pool.iloc[rows] for rows in np.array_split(np.arange(len(pool)), min(n_tasks, max(len(pool), 1)))]
    futures = [task.remote(part, model_names) for part in parts]
    tables = []
    for i, future in enumerate(futures):
        tables.append(ray.get(future))
        if progress:
            progress(steps(sum(map(len, parts[: i + 1])), model_names), steps(len(pool), model_names))
    return pd.concat(tables, ignore_index=True)


def ray_module() -> Any:
    """Ray, joined to a running cluster (``RAY_ADDRESS``) or to a local one it starts; InputError without Ray."""
    try:
        import ray
    except ImportError:
        raise InputError("The ray backend needs Ray: pip install ray") from None
    ray.init(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
    return ray
