"""Probability calibration: reliability bins, expected calibration error and temperature scaling.

scipy is imported by the functions that use it, so that importing this module (as :mod:`sc_core.evaluate` and the
command line do) stays cheap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LOG_T_BOUNDS = (-5.0, 5.0)  # temperatures searched: e^-5 ≈ 0.007 to e^5 ≈ 148


def reliability(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Equal-width bins of predicted probability over [0, 1] (empty bins dropped).

    Columns: bin_low, bin_high, mean_p (mean prediction), frac_positive (observed fraction of positives), count.
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"y and p differ in shape: {y.shape} vs {p.shape}")
    if p.size == 0 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError("p must be a non-empty array of probabilities in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.digitize(p, edges[1:-1])  # 0 .. n_bins - 1; p = 1 falls in the last bin
    table = (pd.DataFrame({"bin": bins, "p": p, "y": y}).groupby("bin")
             .agg(mean_p=("p", "mean"), frac_positive=("y", "mean"), count=("y", "size")))
    table.insert(0, "bin_low", edges[table.index])
    table.insert(1, "bin_high", edges[table.index + 1])
    return table.reset_index(drop=True)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Gap between mean prediction and observed frequency, averaged over equal-width bins weighted by count."""
    table = reliability(y, p, n_bins)
    gaps = (table["mean_p"] - table["frac_positive"]).abs()
    return float((gaps * table["count"]).sum() / table["count"].sum())


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities sigmoid(logits / T)."""
    if temperature <= 0:
        raise ValueError(f"the temperature must be positive, got {temperature}")
    from scipy.special import expit

    return expit(np.asarray(logits, dtype=float) / temperature)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature T > 0 minimising the binary NLL of sigmoid(logits / T); fit it on validation data only."""
    from scipy.optimize import minimize_scalar

    z, y = np.asarray(logits, dtype=float), np.asarray(y, dtype=float)

    def nll(log_t: float) -> float:
        scaled = z / np.exp(log_t)
        return float(np.mean(np.logaddexp(0.0, scaled) - y * scaled))

    return float(np.exp(minimize_scalar(nll, bounds=LOG_T_BOUNDS, method="bounded").x))
