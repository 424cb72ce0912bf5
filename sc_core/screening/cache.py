"""Stored predictions of the trained models on the bundled pools, so that screening one reads them instead of
predicting every row again.

The predictions of model M on bundled pool P are a checkpoint folder, ``checkpoints/M/pools/P/`` (as the saved
fits are ``checkpoints/M/fits/...``): ``weights.npz`` holds OUTPUT_COLUMNS as float32 arrays, one value per row of
:func:`~sc_core.screening.pools.load_pool`, and the rows' error messages; ``card.json`` the model version, the
data hash and the row count. :func:`sc_core.checkpoints.load` checks its sha256 (no pickles). Stored predictions
are used only while the card's version, data hash and row count are the running model's and data's; else (or
when missing) the rows are predicted live, with a log line. The data hash is that of all the bundled data, not
only the pool's files: features read the element table too. ``sc pools`` (``make pools``) rebuilds them.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sc_core import checkpoints, data, models
from sc_core.models.base import OUTPUT_COLUMNS, Model, Progress
from sc_core.screening.chunks import chunked
from sc_core.screening.pools import POOLS, has_structures, load_pool, structures

LOG = logging.getLogger(__name__)
KEY = ["id", "formula", "structure_ref"]  # what a row of a bundled pool is matched on: all that a model reads


def stored_name(model: str, pool: str) -> str:
    """Checkpoint name of the stored predictions of `model` on bundled pool `pool`."""
    return f"{model}/pools/{pool}"


def applies(model: str, pool: str) -> bool:
    """Whether `model` scores bundled pool `pool`: composition models score any pool, structure models those with
    crystal structures (3DSC, S2S)."""
    return models.model_class(model).kind == "composition" or has_structures(pool)


def compute(model: Model, pool: pd.DataFrame, progress: Progress | None = None) -> pd.DataFrame:
    """Live predictions (``Model.predict``'s columns) of every pool row, in :func:`~.chunks.chunked` chunks, so
    that progress is reported about four times a second."""
    inputs = structures(pool) if model.kind == "structure" else list(pool["formula"])
    inputs = [x if x is not None else "" for x in inputs]
    parts = chunked(len(inputs), lambda rows: model.predict(inputs[rows]), progress)
    return pd.concat(parts, ignore_index=True) if parts else model.predict([])


def save(name: str, pool: str, version: str, predictions: pd.DataFrame) -> Path:
    """Store `predictions` (OUTPUT_COLUMNS and error, a row per bundled pool row) of version `version` of model
    `name`; returns the folder."""
    errors = predictions["error"].to_numpy(dtype=str)
    failed = np.flatnonzero(errors != "")
    arrays = {col: predictions[col].to_numpy(dtype=np.float32) for col in OUTPUT_COLUMNS}
    card = {"model": name, "pool": pool, "version": version, "data_hash": data.manifest()["data_hash"],
            "rows": len(predictions), "dtype": "float32",
            "contents": f"{name}'s predictions of every row of the bundled {pool} pool, for screening; "
                        "error_rows: the rows with an error message, errors: the messages"}
    return checkpoints.save(stored_name(name, pool), {**arrays, "error_rows": failed, "errors": errors[failed]}, card)


def build(name: str, pool: str, progress: Progress | None = None) -> Path:
    """Predict bundled pool `pool` with model `name` and store the predictions; returns the folder."""
    model = models.load(name)
    return save(name, pool, model.version, compute(model, load_pool(pool), progress))


def stored(name: str, pool: str) -> dict[str, np.ndarray] | None:
    """The stored predictions of model `name` on bundled pool `pool`: OUTPUT_COLUMNS (float64) and error, one value
    per bundled pool row; None where there are none, or they are stale or damaged (logged)."""
    key = stored_name(name, pool)
    folder = checkpoints.CHECKPOINT_DIR / key
    if not checkpoints.exists(key):
        LOG.info("no stored predictions of %s on the %s pool in %s: predicting live", name, pool, folder)
        return None
    try:
        with warnings.catch_warnings():  # other library versions: stored numbers do not change (the model warns)
            warnings.simplefilter("ignore")
            arrays, card = checkpoints.load(key)
    except checkpoints.CheckpointError as exc:
        problem = str(exc)
    else:
        problem = _problem(arrays, card, models.version(name), len(load_pool(pool)))
    if problem:
        LOG.warning("ignoring the stored predictions in %s: %s; predicting live (rebuild them with `sc pools`)",
                    folder, problem)
        return None
    error = np.full(card["rows"], "", dtype=object)
    error[arrays["error_rows"]] = arrays["errors"]
    return {col: arrays[col].astype(float) for col in OUTPUT_COLUMNS} | {"error": error}


def _problem(arrays: dict[str, np.ndarray], card: dict, version: str, rows: int) -> str:
    """Why stored predictions do not fit the running model and data ('' if they do)."""
    expected = {"version": version, "data_hash": data.manifest()["data_hash"], "rows": rows}
    stale = [f"{key} {card.get(key)!r}, not {value!r}" for key, value in expected.items() if card.get(key) != value]
    if stale:
        return "they were made for " + "; ".join(stale)
    if any(col not in arrays or arrays[col].shape != (rows,) for col in OUTPUT_COLUMNS):
        return f"they are not one value per row of the {rows:,} in the pool"
    failed, errors = arrays.get("error_rows"), arrays.get("errors")
    if failed is None or errors is None or failed.shape != errors.shape or ((failed < 0) | (failed >= rows)).any():
        return "their error messages are not listed by row of the pool"
    return ""


def _bundled_rows(pool: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each bundled pool that rows of `pool` come from: (their positions in `pool`, theirs in the bundled pool),
    matched on KEY. A pool read from files (it has a structure column: uploads, ``sc screen FILE``) has none."""
    if "structure" in pool.columns or "source" not in pool.columns:
        return {}
    found = {}
    for name in set(pool["source"]) & set(POOLS):
        rows = np.flatnonzero((pool["source"] == name).to_numpy())
        at = pd.MultiIndex.from_frame(load_pool(name)[KEY]).get_indexer(pd.MultiIndex.from_frame(pool.iloc[rows][KEY]))
        found[name] = (rows[at >= 0], at[at >= 0])
    return found


def predict(name: str, pool: pd.DataFrame, progress: Progress | None = None) -> pd.DataFrame:
    """Predictions (OUTPUT_COLUMNS and error, in pool order) of model `name` for every pool row: the stored ones for
    rows of a bundled pool, live ones (:func:`compute`) for the others (the model is loaded only for those);
    progress counts rows."""
    out = {col: np.full(len(pool), np.nan) for col in OUTPUT_COLUMNS} | {"error": np.full(len(pool), "", object)}
    live = np.ones(len(pool), dtype=bool)
    for bundled, (rows, at) in _bundled_rows(pool).items():
        table = stored(name, bundled)
        if table is not None:
            for col, values in table.items():
                out[col][rows] = values[at]
            live[rows] = False
    done = len(pool) - int(live.sum())
    if progress and done:
        progress(done, len(pool))

    def step(n: int, _: int) -> None:
        if progress:
            progress(done + n, len(pool))

    if live.any():
        computed = compute(models.load(name), pool[live], step)
        for col in out:
            out[col][live] = computed[col].to_numpy()
    return pd.DataFrame(out)
