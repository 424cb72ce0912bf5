"""Batch prediction of a pool with one or more models, with the chemistry columns of every row."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sc_core import checkpoints, thresholds
from sc_core.chemistry import chemical_systems, families
from sc_core.featurize.formulas import parse_formulas
from sc_core.intervals import mixture
from sc_core.io import InputError
from sc_core.screening import cache
from sc_core.screening.chunks import chunked
from sc_core.screening.known import supercon_matches
from sc_core.screening.symmetry import crystal_system, space_groups

Progress = Callable[[int, int], None]
POOL_ONLY = ("source", "structure_ref", "structure", "error")  # pool columns used here, not carried to the table


def steps(rows: int, model_names: list[str]) -> int:
    """The progress steps of screening `rows` rows: each row is described, then predicted by each model."""
    return rows * (len(model_names) + 1)


def _describe(pool: pd.DataFrame, progress: Progress | None = None) -> pd.DataFrame:
    """Chemistry columns for each pool row (space group, family, elements, SuperCon match), in chunks (space groups
    of uploaded structures take milliseconds each), reporting progress (rows described)."""
    parts = chunked(len(pool), lambda rows: _describe_rows(pool.iloc[rows]), progress)
    return pd.concat(parts) if parts else _describe_rows(pool)


def _describe_rows(pool: pd.DataFrame) -> pd.DataFrame:
    """:func:`_describe` of one chunk; the formulas are read together (unreadable ones get blank columns)."""
    batch, errors = parse_formulas(pool["formula"].tolist())
    system, systems = chemical_systems(batch.z)
    read = errors == ""
    groups = space_groups(pool)
    described = pd.DataFrame({"family": np.where(read, families(batch.z, batch.x), ""),
                              "n_elements": (batch.z > 0).sum(axis=1),
                              "elements": np.array([" ".join(s) for s in systems], dtype=object)[system],
                              "contains_O": (batch.z == 8).any(axis=1)}, index=pool.index)
    return described.join(supercon_matches(batch).set_axis(pool.index)).assign(
        space_group=groups, crystal_system=[crystal_system(g) for g in groups])


def screen_batch(pool: pd.DataFrame, model_names: list[str], progress: Progress | None = None) -> pd.DataFrame:
    """Predict every pool row with each model; p_sc is the consensus, the mean over models that scored the row.

    ``tc_K`` ("Tc if it superconducts") is the mean over the models with a Tc head, ``tc_std_K`` the spread of
    that equal mixture (each model's spread and their disagreement), ``tc_K_<model>`` each model's own value, and
    ``decision_threshold`` is the mean decision threshold (:mod:`sc_core.thresholds`, on each model's card) of the
    models that scored the row, ``predicted_sc`` whether the consensus P reaches it, and ``tc_gated_K`` the Tc of
    the rows that do, blank otherwise: what to sort and filter by.

    The pool is a bundled one (:func:`~sc_core.screening.pools.load_pool`) or one read by
    :func:`sc_core.io.read_pool`, whose other columns (a CSV's own) are carried to the end of the table. Rows of a
    bundled pool take a model's stored predictions where they are up to date (:mod:`~sc_core.screening.cache`).
    `progress` is told (steps done, :func:`steps`) as rows are described, then predicted by each model.
    A pure function of its arguments (models are loaded by name in the calling process), so a distributed
    engine can run it on any part of a pool: see :func:`~sc_core.screening.backends.screen`.
    """
    if not model_names:
        raise InputError("Choose at least one model.")
    pool = pool.reset_index(drop=True)
    table = pd.DataFrame({"id": pool["id"], "formula": pool["formula"],
                          "mp_id": pool["mp_id"] if "mp_id" in pool.columns else ""})
    done, total = 0, steps(len(pool), model_names)

    def step(n: int, _: int) -> None:
        if progress:
            progress(done + n, total)

    table = table.join(_describe(pool, step))
    done = len(pool)
    errors = pool["error"].fillna("").to_numpy() if "error" in pool.columns else np.full(len(pool), "")
    tc_means, tc_vars, cuts = [], [], []
    for name in model_names:
        pred = cache.predict(name, pool, progress=step)
        table[f"p_sc_{name}"] = pred["p_sc"].to_numpy()
        table[f"tc_K_{name}"] = pred["tc_K"].to_numpy(dtype=float)
        tc_means.append(pred["tc_K"].to_numpy(dtype=float))
        tc_vars.append(pred["tc_std_K"].to_numpy(dtype=float) ** 2)
        cuts.append(np.where(pred["p_sc"].isna(), np.nan, thresholds.of(checkpoints.read_card(name))))
        errors = np.where((errors == "") & pred["p_sc"].isna().to_numpy(), pred["error"].to_numpy(), errors)
        done += len(pool)
    table["p_sc"] = table[[f"p_sc_{n}" for n in model_names]].mean(axis=1, skipna=True)
    table["tc_K"], table["tc_std_K"] = mixture(np.array(tc_means), np.array(tc_vars))
    table["decision_threshold"] = pd.DataFrame(np.array(cuts).T).mean(axis=1, skipna=True).to_numpy()  # model columns
    table["predicted_sc"] = table["p_sc"] >= table["decision_threshold"]
    table["tc_gated_K"] = table["tc_K"].where(table["predicted_sc"])
    table["error"] = np.where(table["p_sc"].isna(), errors, "")  # a row any model scored is not an error
    carried = pool.drop(columns=[*POOL_ONLY, *table.columns], errors="ignore")
    return pd.concat([table, carried], axis=1)

