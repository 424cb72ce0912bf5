"""Ensemble and split-conformal intervals."""

import numpy as np
import pandas as pd
import pytest

from sc_core import intervals


def test_ensemble_intervals_clip_to_the_physical_range():
    row = pd.Series({"p_sc": 0.9, "p_sc_std": 0.1, "tc_K": 3.0, "tc_std_K": 2.0})
    bounds = intervals.ensemble_intervals(row)
    assert bounds["p_sc"] == pytest.approx((0.7, 1.0)) and bounds["tc_K"] == pytest.approx((0.0, 7.0))


def test_conformal_scale_is_the_finite_sample_quantile():
    tc, spread = np.zeros(9), np.ones(9)
    pred = np.arange(1.0, 10.0)  # residuals 1..9
    assert intervals.conformal_scale(tc, pred, spread, coverage=0.9) == 9.0  # rank ⌈10 · 0.9⌉ = 9
    assert intervals.conformal_scale(tc, pred, spread, coverage=0.5) == 5.0  # rank 5
    assert intervals.conformal_scale(tc, pred, 2 * spread, coverage=0.5) == 2.5  # residuals in units of spread
    assert intervals.conformal_scale(tc[:5], pred[:5], spread[:5], coverage=0.9) == np.inf  # 5 points: too few


def test_conformal_interval_covers_at_least_the_stated_share_of_exchangeable_data():
    rng = np.random.default_rng(0)
    coverages = []
    for _ in range(300):
        spread = rng.uniform(0.5, 3.0, 150)
        truth = 20 + spread * rng.standard_normal(150)  # heteroscedastic: the spread is informative
        scale = intervals.conformal_scale(truth[:50], np.full(50, 20.0), spread[:50])
        coverages.append(intervals.interval_metrics(truth[50:], np.full(100, 20.0), spread[50:], scale)["coverage"])
    assert 0.9 <= np.mean(coverages) <= 0.93  # ≥ 90% on average, and not much more with 50 calibration points


def test_interval_metrics_report_width_and_clip_at_zero():
    low, high = intervals.conformal_interval(np.array([1.0, 10.0]), np.array([1.0, 0.0]), scale=2.0)
    np.testing.assert_allclose(low, [0.0, 9.8])  # a zero spread counts as SPREAD_FLOOR_K
    np.testing.assert_allclose(high, [3.0, 10.2])
    m = intervals.interval_metrics(np.array([2.5, 11.0]), np.array([1.0, 10.0]), np.array([1.0, 0.0]), 2.0)
    assert m["coverage"] == 0.5 and m["mean_width_K"] == pytest.approx((3.0 + 0.4) / 2)


def test_card_scale_comes_from_the_grouped_protocol_and_shows_on_the_description():
    card = {"metrics": [
        {"dataset": "supercon", "protocol": "random", "task": "tc_interval", "scale": 1.2, "coverage": 0.91},
        {"dataset": "supercon", "protocol": "grouped", "task": "tc_interval", "scale": 1.5, "coverage": 0.89},
        {"dataset": "supercon", "protocol": "grouped", "task": "tc_regression", "mae_K": 5.0}]}
    conformal = intervals.conformal_of_card(card)
    assert conformal == {"scale": 1.5, "coverage": 0.89, "protocol": "supercon/grouped"}
    assert intervals.conformal_of_card({"metrics": card["metrics"][2:]}) is None
    row = pd.Series({"p_sc": 0.8, "p_sc_std": 0.05, "tc_K": 10.0, "tc_std_K": 2.0})
    calibrated, spread = intervals.describe(row, conformal=conformal)  # one labelled line each
    assert calibrated.startswith("**Tc, 90% calibrated interval:** [7.0, 13.0] K") and "89%" in calibrated
    assert spread.startswith("**Ensemble spread (± 2 σ):** P(superconductor) [0.70, 0.90], Tc [6.0, 14.0] K")
    assert "90%" not in spread and intervals.describe(row) == [spread]
