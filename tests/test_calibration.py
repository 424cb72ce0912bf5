import numpy as np
import pytest
from scipy.special import expit

from sc_core.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    reliability,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_ece_small_when_calibrated_large_when_overconfident(rng):
    p = rng.uniform(0, 1, 20_000)
    y = rng.uniform(0, 1, p.size) < p
    assert expected_calibration_error(y, p) < 0.02
    overconfident = np.where(p > 0.5, 0.99, 0.01)  # the truth is p, the model says nearly 0 or 1
    assert expected_calibration_error(y, overconfident) > 0.2


def test_reliability_bins(rng):
    p = np.concatenate([rng.uniform(0, 0.3, 500), [1.0]])  # bins above 0.3 stay empty except the last
    y = rng.uniform(0, 1, p.size) < p
    table = reliability(y, p, n_bins=10)
    assert list(table.columns) == ["bin_low", "bin_high", "mean_p", "frac_positive", "count"]
    assert table["count"].sum() == p.size
    assert len(table) == 4 and table["bin_high"].iloc[-1] == 1.0
    assert ((table["mean_p"] >= table["bin_low"]) & (table["mean_p"] <= table["bin_high"])).all()


def test_reliability_rejects_non_probabilities():
    with pytest.raises(ValueError):
        reliability([0, 1], [0.5, 1.5])


def test_fit_temperature_recovers_known_temperature(rng):
    z = rng.normal(0, 4, 20_000)
    y = rng.uniform(0, 1, z.size) < expit(z / 2.5)
    assert fit_temperature(z, y) == pytest.approx(2.5, abs=0.2)


def test_apply_temperature():
    z = np.linspace(-6, 6, 13)
    np.testing.assert_allclose(apply_temperature(z, 1.0), expit(z))
    np.testing.assert_allclose(apply_temperature(z, 2.0), expit(z / 2))
    with pytest.raises(ValueError):
        apply_temperature(z, 0.0)
