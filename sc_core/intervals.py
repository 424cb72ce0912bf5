"""Intervals around a prediction: ± k standard deviations of the ensemble, clipped to the physical range."""

from __future__ import annotations

import numpy as np
import pandas as pd

K_SIGMA = 2.0


def ensemble_intervals(row: pd.Series, k: float = K_SIGMA) -> dict[str, tuple[float, float]]:
    """``{"p_sc": (low, high), "tc_K": (low, high)}``: mean ± k spread, P clipped to [0, 1], Tc at 0 K."""
    p_low, p_high = np.clip([row["p_sc"] - k * row["p_sc_std"], row["p_sc"] + k * row["p_sc_std"]], 0.0, 1.0)
    tc_low, tc_high = max(row["tc_K"] - k * row["tc_std_K"], 0.0), row["tc_K"] + k * row["tc_std_K"]
    return {"p_sc": (float(p_low), float(p_high)), "tc_K": (float(tc_low), float(tc_high))}


def describe(row: pd.Series, k: float = K_SIGMA) -> str:
    """The intervals in words, as the Predict page shows them."""
    (p_low, p_high), (tc_low, tc_high) = ensemble_intervals(row, k).values()
    return (f"P(superconductor) interval [{p_low:.2f}, {p_high:.2f}] (clipped to [0, 1]); Tc interval "
            f"[{tc_low:.1f}, {tc_high:.1f}] K (clipped at 0 K): ± {k:g} standard deviations across the members of "
            "the model's ensemble (the trees, for a forest).")
