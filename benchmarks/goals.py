"""Issue #16's goal table from the stored test results: ``python benchmarks/goals.py``.

For each goal row, every evaluated model's figure (mean ± std over its seeds, from ``benchmarks/results``),
the best one, and whether it meets the goal. Precision at recall ≥ 0.7 on the Hosono list is read from the
stored precision-recall curve of the seed-mean score. Nothing is recomputed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sc_core import models
from sc_core.evaluate import load_curves, results_table

# (label, dataset, protocol, task, threshold, metric, goal, higher is better)
GOALS = [
    ("SuperCon random ROC-AUC", "supercon", "random", "classification", 0.0, "roc_auc", 0.92, True),
    ("SuperCon random accuracy", "supercon", "random", "classification", 0.0, "accuracy", 0.88, True),
    ("SuperCon grouped ROC-AUC", "supercon", "grouped", "classification", 0.0, "roc_auc", 0.87, True),
    ("SuperCon grouped accuracy", "supercon", "grouped", "classification", 0.0, "accuracy", 0.85, True),
    ("SuperCon Tc random MAE (K)", "supercon", "random", "tc_regression", 0.0, "mae_K", 3.3, False),
    ("SuperCon Tc random R²", "supercon", "random", "tc_regression", 0.0, "r2", 0.95, True),
    ("SuperCon Tc grouped MAE (K)", "supercon", "grouped", "tc_regression", 0.0, "mae_K", 5.0, False),
    ("SuperCon Tc grouped R²", "supercon", "grouped", "tc_regression", 0.0, "r2", 0.90, True),
    ("Hosono 2018 at 0 K ROC-AUC", "hosono2018", "external", "classification", 0.0, "roc_auc", 0.94, True),
    ("3DSC Tc grouped MAE (K)", "3dsc", "grouped", "tc_regression", 0.0, "mae_K", 2.5, False),
    ("3DSC Tc grouped R²", "3dsc", "grouped", "tc_regression", 0.0, "r2", 0.94, True),
    ("S2S random accuracy", "s2s", "random", "classification", 0.0, "accuracy", 0.94, True),
    ("S2S random ROC-AUC", "s2s", "random", "classification", 0.0, "roc_auc", 0.975, True),
    ("leave-family-out recall (mean over families)", "supercon", "leave_family_out", "classification", 0.0,
     "recall", 0.5, True),
]
RECALL_FLOOR, PRECISION_GOAL = 0.7, 0.75


def precision_at_recall(name: str, floor: float = RECALL_FLOOR) -> float:
    """Highest precision at recall ≥ `floor` on the stored Hosono 2018 curve at 0 K (NaN if not evaluated)."""
    for curve in load_curves(name):
        if (curve["dataset"], curve["protocol"], curve["task"], curve["threshold_K"]) == (
                "hosono2018", "external", "classification", 0.0):
            precision, recall = np.array(curve["pr"]["precision"]), np.array(curve["pr"]["recall"])
            return float(precision[recall >= floor].max())
    return float("nan")


def goal_table(names: list[str]) -> pd.DataFrame:
    """One row per goal: each model's 'mean ± std', the best model and whether it meets the goal."""
    table = results_table(names)
    rows = []
    for label, dataset, protocol, task, threshold, metric, goal, higher in GOALS:
        part = table[(table["dataset"] == dataset) & (table["protocol"] == protocol) & (table["task"] == task)
                     & (table["threshold_K"] == threshold) & (table["metric"] == metric)].set_index("model")
        row = {"goal": label, "target": f"{'≥' if higher else '≤'} {goal:g}"}
        row |= {m: f"{part.loc[m, 'mean']:.3f} ± {part.loc[m, 'std']:.3f}" if m in part.index else "" for m in names}
        if not part.empty:
            best = part["mean"].idxmax() if higher else part["mean"].idxmin()
            value = part.loc[best, "mean"]
            row |= {"best": best, "met": "yes" if (value >= goal if higher else value <= goal) else "no"}
        rows.append(row)
    precision = {m: precision_at_recall(m) for m in names}
    known = {m: p for m, p in precision.items() if np.isfinite(p)}
    row = {"goal": f"Hosono 2018 at 0 K precision at recall ≥ {RECALL_FLOOR:g}", "target": f"≥ {PRECISION_GOAL:g}"}
    row |= {m: f"{p:.3f}" if np.isfinite(p) else "" for m, p in precision.items()}
    if known:
        best = max(known, key=known.__getitem__)
        row |= {"best": best, "met": "yes" if known[best] >= PRECISION_GOAL else "no"}
    rows.append(row)
    return pd.DataFrame(rows).fillna("")


if __name__ == "__main__":
    print(goal_table(models.available()).to_markdown(index=False))
