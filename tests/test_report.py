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


def test_metric_tables_mark_unmeasured_cells_and_small_test_sets():
    import pandas as pd

    rows = [("m", "supercon", "random", "tc_regression", 0.0, 2400, metric, 4.0, 0.1)
            for metric in ("mae_K", "r2", "mae_all_K")]
    rows += [("m", "supercon", "leave_family_out", "tc_regression_nickelate", 0.0, 14, metric, -262.0, 18.0)
             for metric in ("mae_K", "r2")]  # a per-class row: no MAE over all rows, and few test materials
    table = pd.DataFrame(rows, columns=["model", "dataset", "protocol", "task", "threshold_K", "n_test", "metric",
                                        "mean", "std"])
    wide = report.metric_tables(table)["tc_regression"]
    assert not wide.isna().any().any()
    assert wide["MAE all rows (K)"].tolist() == ["4.00 ± 0.10", report.NOT_MEASURED]
    assert wide["Caution"].tolist() == ["", report.FEW_TEXT]
    assert list(wide.columns).index("Caution") == list(wide.columns).index("n test") + 1
    raw = report.metric_tables(table, readable=False)["tc_regression"]  # the README's tables keep NaN, no column
    assert raw["mae_all_K"].isna().sum() == 1 and "Caution" not in raw
