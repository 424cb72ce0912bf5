"""Intervals around a prediction: ± k standard deviations of the ensemble, clipped to the physical range."""

from __future__ import annotations

import numpy as np
import pandas as pd

K_SIGMA = 2.0


def mixture(means: np.ndarray, variances: np.ndarray,
            weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation, per column, of a mixture of the (components, rows) predictions with their
    variances; `weights` per component (default equal). A NaN mean leaves its component out of that row (the
    others' weights are renormalised); a NaN variance counts as 0."""
    given = ~np.isnan(means)
    w = np.ones(len(means)) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(given, w[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = w / w.sum(axis=0)
        mean = (w * np.where(given, means, 0.0)).sum(axis=0)
        second = (w * np.where(given, np.nan_to_num(variances) + means**2, 0.0)).sum(axis=0)
    return mean, np.sqrt(np.maximum(second - mean**2, 0.0))


def ensemble_intervals(row: pd.Series, k: float = K_SIGMA) -> dict[str, tuple[float, float]]:
    """``{"p_sc": (low, high), "tc_K": (low, high)}``: mean ± k spread, P clipped to [0, 1], Tc at 0 K."""
    p_low, p_high = np.clip([row["p_sc"] - k * row["p_sc_std"], row["p_sc"] + k * row["p_sc_std"]], 0.0, 1.0)
    tc_low, tc_high = max(row["tc_K"] - k * row["tc_std_K"], 0.0), row["tc_K"] + k * row["tc_std_K"]
    return {"p_sc": (float(p_low), float(p_high)), "tc_K": (float(tc_low), float(tc_high))}


def describe(row: pd.Series, k: float = K_SIGMA, conformal: dict | None = None) -> list[str]:
    """The intervals in words as the Predict page shows them, one labelled line each: with `conformal`
    (:func:`conformal_of_card`) the calibrated 90% Tc interval, then the ensemble's ± k spread."""
    (p_low, p_high), (tc_low, tc_high) = ensemble_intervals(row, k).values()
    lines = [f"**Ensemble spread (± {k:g} σ):** P(superconductor) [{p_low:.2f}, {p_high:.2f}], Tc [{tc_low:.1f}, "
             f"{tc_high:.1f}] K: ± {k:g} standard deviations across the members of the model's ensemble (the trees, "
             "for a forest), clipped to [0, 1] and at 0 K; not a calibrated coverage."]
    if not conformal:
        return lines
    low, high = conformal_interval(np.array([row["tc_K"]]), np.array([row["tc_std_K"]]), conformal["scale"])
    return [f"**Tc, {COVERAGE:.0%} calibrated interval:** [{low[0]:.1f}, {high[0]:.1f}] K if it superconducts: the "
            f"spread scaled by {conformal['scale']:.2f}, calibrated on superconductors held out from training "
            f"(protocol {conformal['protocol']}: its test coverage was {conformal['coverage']:.0%}).", *lines]


# -- split-conformal Tc intervals ---------------------------------------------------------------------
CALIBRATED_ON = (("supercon", "grouped"), ("3dsc", "grouped"))  # a card's conformal scale: the first found
COVERAGE = 0.9  # the stated coverage of the conformal Tc interval
SPREAD_FLOOR_K = 0.1  # a spread below this counts as this, so a residual is never divided by ~0


def normalised_residuals(tc: np.ndarray, pred: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Nonconformity scores |Tc − predicted| / max(spread, SPREAD_FLOOR_K)."""
    return np.abs(np.asarray(tc, float) - np.asarray(pred, float)) / np.maximum(np.asarray(spread, float),
                                                                                 SPREAD_FLOOR_K)


def conformal_scale(tc: np.ndarray, pred: np.ndarray, spread: np.ndarray, coverage: float = COVERAGE) -> float:
    """The split-conformal multiplier q: on calibration superconductors unseen in training, the
    ⌈(n + 1)·coverage⌉-th smallest normalised residual (infinite when n is too small for the coverage), so
    that Tc ∈ predicted ± q·spread holds with probability ≥ `coverage` for an exchangeable new material."""
    scores = np.sort(normalised_residuals(tc, pred, spread))
    rank = int(np.ceil((len(scores) + 1) * coverage))
    return float(scores[rank - 1]) if rank <= len(scores) else float("inf")


def conformal_interval(pred: np.ndarray, spread: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) Tc bounds predicted ± scale·max(spread, floor), the low bound clipped at 0 K."""
    half = scale * np.maximum(np.asarray(spread, float), SPREAD_FLOOR_K)
    return np.maximum(np.asarray(pred, float) - half, 0.0), np.asarray(pred, float) + half


def interval_metrics(tc: np.ndarray, pred: np.ndarray, spread: np.ndarray, scale: float) -> dict[str, float]:
    """Coverage of true Tc values by the conformal interval, its mean and median width (K), and the scale."""
    low, high = conformal_interval(pred, spread, scale)
    tc = np.asarray(tc, float)
    return {"coverage": float(np.mean((tc >= low) & (tc <= high))), "mean_width_K": float(np.mean(high - low)),
            "median_width_K": float(np.median(high - low)), "scale": scale}


def conformal_of_card(card: dict) -> dict | None:
    """The conformal multiplier recorded on a checkpoint card by ``sc evaluate --conformal`` (mean over seeds of the
    grouped protocol of its Tc dataset), with its protocol and test coverage; None before that evaluation."""
    rows = {(m["dataset"], m["protocol"]): m for m in card.get("metrics", []) if m.get("task") == "tc_interval"}
    for dataset, protocol in CALIBRATED_ON:
        row = rows.get((dataset, protocol))
        if row and np.isfinite(row.get("scale", np.nan)):
            return {"scale": float(row["scale"]), "coverage": float(row["coverage"]),
                    "protocol": f"{dataset}/{protocol}"}
    return None
