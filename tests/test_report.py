"""Results as readers see them: curves thinned for drawing."""

import numpy as np
from sklearn.metrics import roc_curve

from sc_core import report


def test_thinned_roc_keeps_its_ends_order_and_area():
    rng = np.random.default_rng(0)
    y = rng.random(20_000) < 0.4
    fpr, tpr, _ = roc_curve(y, y + rng.normal(0, 0.8, y.size), drop_intermediate=False)
    x, t = report.thinned(fpr, tpr)
    assert len(fpr) > 10_000 and len(x) <= report.CURVE_POINTS + 2
    assert (x[0], t[0], x[-1], t[-1]) == (fpr[0], tpr[0], fpr[-1], tpr[-1])
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(t) >= 0)
    assert abs(np.trapezoid(t, x) - np.trapezoid(tpr, fpr)) < 2e-3
    short = [0.0, 0.5, 1.0]
    assert [list(a) for a in report.thinned(short, short)] == [short, short]  # short curves are left whole
