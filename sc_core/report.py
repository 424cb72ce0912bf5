"""Stored evaluation results as readers see them: names of test sets, tasks and metrics, the protocols in
words, and wide metric tables (one column per metric, 'mean ± std' over seeds). Used by the Model performance
page and ``benchmarks/report.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd

CURVE_POINTS = 300  # points drawn per ROC or precision-recall curve: enough for the eye, light for the browser

DATASET_NAMES = {"supercon": "SuperCon", "hosono2018": "Hosono 2018 list", "s2s": "S2S structures",
                 "3dsc": "3DSC structures"}
TASK_DESCRIPTIONS = {
    "classification": "Classification (superconductor or not; with a threshold T: Tc > T, scored by "
                      "P(superconductor) × P(Tc > T))",
    "tc_as_classifier": "Regressed Tc used as a classifier (predicted Tc > T, 1 K for T = 0; Quinn & McQueen's "
                        "Fig. 6)",
    "tc_regression": "Tc regression (superconductors, overall and by class; the last column scores every row, "
                     "predicting 0 K where P(superconductor) < 0.5)",
    "at_threshold": "Classification at each model's decision threshold (leave_family_out: the cut chosen on the "
                    "other families' folds; external: the cut on the model's card)",
    "decision_threshold": "Decision thresholds: the P cut of best balanced accuracy (Youden's J) over the held-out "
                          "families of leave_family_out, pooled, with their pooled precision, recall, F1 and "
                          "false-positive rate (the data the cut was chosen on)",
    "tc_interval": "90% conformal Tc intervals (predicted Tc ± multiplier × spread, the multiplier calibrated on a "
                   "tenth of the training part held out; coverage and width measured on the test superconductors)",
}
CLASS_TASKS = ("classification", "tc_regression")  # tasks stored per class as <task>_<class> (family, Tc class)
METRIC_NAMES = {"accuracy": "Accuracy", "precision": "Precision", "recall": "Recall", "f1": "F1",
                "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "ece": "ECE", "mae_K": "MAE (K)", "rmse_K": "RMSE (K)",
                "r2": "R²", "mae_all_K": "MAE all rows (K)", "coverage": "Coverage", "mean_width_K": "Mean width (K)",
                "median_width_K": "Median width (K)", "scale": "Multiplier", "threshold": "Threshold",
                "accuracy_at_threshold": "Accuracy", "precision_at_threshold": "Precision",
                "recall_at_threshold": "Recall", "f1_at_threshold": "F1", "fpr_at_threshold": "False-positive rate"}
THRESHOLD_METRICS = ("threshold", "accuracy_at_threshold", "precision_at_threshold", "recall_at_threshold",
                     "f1_at_threshold", "fpr_at_threshold")  # metrics at the decision threshold: their own table
NOT_MEASURED = "–"  # a metric that does not apply to a row (e.g. MAE over all rows of a per-class row)
FEW_TEST = 30  # test materials below which a row's metrics swing widely (R² especially)
FEW_TEXT = f"n < {FEW_TEST}: unreliable"
KELVIN_METRICS = ("mae_K", "rmse_K", "mae_all_K", "mean_width_K", "median_width_K")
PROTOCOLS_TEXT = (
    "All numbers come from held-out test splits, never from the data a model was trained on. **random**: 80/20 split "
    "over unique compositions; **grouped**: 80/20 split by chemical system (element set), so test chemistries are "
    "unseen; **leave_family_out**: each family (cuprates, iron-based, nickelates, heavy-fermion, A15, "
    "borides/carbides, chalcogenides) is left out of training in turn and tested alone, its COD compounds counting as"
    " further negatives (class 'all': the mean over families); **leave_cluster_out**: the same with k-means clusters "
    "of the Magpie features in place of families (Meredig et al. 2018); **external**: trained on SuperCon without the"
    " overlaps, tested on the Hosono et al. 2018 list of materials searched for superconductivity (Tc > 10 K: scored "
    "as P(superconductor) × P(Tc > 10 K)). S2S rows refit the model with structure descriptors on the S2S crystals "
    "(random: stratified; grouped: by reduced formula). 3DSC rows refit structure models on 3DSC (grouped: by "
    "SuperCon formula, so doped variants of one compound stay on one side; random: over structures). Conformal Tc "
    "intervals refit each split without a calibration tenth of its training part. Tables show mean ± std over seeds; "
    "curves and points show the first seed."
)


def thinned(xs: list[float], ys: list[float], points: int = CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """A curve cut to about `points` points spread along its length, keeping both ends (for drawing only; the
    metrics come from the whole curve)."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(x) <= points:
        return x, y
    length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    keep = np.union1d(np.searchsorted(length, np.linspace(0.0, length[-1], points)).clip(0, len(x) - 1),
                      [0, len(x) - 1])
    return x[keep], y[keep]


def protocol_label(protocol: str, threshold_K: float) -> str:
    """``random`` or ``external · Tc > 10 K``."""
    return protocol + (f" · Tc > {threshold_K:g} K" if threshold_K else "")


def test_set_label(dataset: str, protocol: str, threshold_K: float) -> str:
    """``SuperCon · random`` or ``Hosono 2018 list · external · Tc > 10 K``."""
    return f"{DATASET_NAMES.get(dataset, dataset)} · {protocol_label(protocol, threshold_K)}"


def metric_tables(table: pd.DataFrame, readable: bool = True) -> dict[str, pd.DataFrame]:
    """Task → wide table of a long :func:`sc_core.evaluate.results_table`: one row per model, test set,
    protocol (and Tc class), one 'mean ± std' column per metric. `readable` names datasets, protocols with their
    threshold, and metrics in words, writes NOT_MEASURED where a metric was not measured for a row, and marks
    rows of fewer than FEW_TEST test materials in a "Caution" column (else the stored keys, with a threshold
    column, and NaN)."""
    cells = [f"{m:.2f} ± {s:.2f}" if metric in KELVIN_METRICS and readable else f"{m:.3f} ± {s:.3f}"
             for metric, m, s in zip(table["metric"], table["mean"], table["std"])]
    split = [next(((task, t.removeprefix(f"{task}_")) for task in CLASS_TASKS if t.startswith(f"{task}_")), (t, "all"))
             for t in table["task"]]
    tasks = ["at_threshold" if task == "classification" and metric in THRESHOLD_METRICS else task
             for (task, _), metric in zip(split, table["metric"])]
    long = table.assign(cell=cells, task=tasks, tc_class=[c for _, c in split])
    if readable:
        long = long.assign(dataset=long["dataset"].map(lambda d: DATASET_NAMES.get(d, d)),
                           protocol=[protocol_label(p, t) for p, t in zip(long["protocol"], long["threshold_K"])])
    out = {}
    for task in TASK_DESCRIPTIONS:
        part = long[long["task"] == task]
        if part.empty:
            continue
        keys = ["model", "dataset", "protocol"] + ([] if readable else ["threshold_K"]) + ["n_test"]
        if (task in CLASS_TASKS or task == "at_threshold") and (part["tc_class"] != "all").any():
            keys += ["tc_class"]
        wide = part.pivot_table(index=keys, columns="metric", values="cell", aggfunc="first", sort=False)
        wide = wide[[m for m in METRIC_NAMES if m in wide.columns]].reset_index()
        if readable:
            few = wide["n_test"] < FEW_TEST
            wide = wide.fillna(NOT_MEASURED).rename(columns=METRIC_NAMES | {
                "model": "Model", "dataset": "Test set", "protocol": "Protocol", "n_test": "n test",
                "tc_class": "Class"})
            if few.any():
                wide.insert(wide.columns.get_loc("n test") + 1, "Caution", few.map({True: FEW_TEXT, False: ""}))
        out[task] = wide
    return out
