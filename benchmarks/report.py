"""Print the stored test metrics of every evaluated model as Markdown tables (mean ± std over seeds).

    python benchmarks/report.py [MODEL ...] [--thresholds 0,10,25]

Reads ``benchmarks/results/<model>.json`` (written by ``sc evaluate``); nothing is recomputed.
"""

from __future__ import annotations

import argparse

from sc_core import models
from sc_core.evaluate import results_table

CLASSIFICATION = ["accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "ece"]
SHOWN = {"classification": CLASSIFICATION, "tc_as_classifier": CLASSIFICATION,
         "tc_regression": ["mae_K", "rmse_K", "r2", "mae_all_K"]}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/report.py")
    parser.add_argument("models", nargs="*", help="default: every trained model")
    parser.add_argument("--thresholds", help="comma-separated Tc thresholds (K) to show; default: all")
    args = parser.parse_args()
    table = results_table(args.models or models.available())
    if table.empty:
        print("no stored results: run `sc evaluate --model NAME` first")
        return
    if args.thresholds:
        table = table[table["threshold_K"].isin([float(t) for t in args.thresholds.split(",")])]
    table["class"] = [t.removeprefix("tc_regression_") if t.startswith("tc_regression_") else ""
                      for t in table["task"]]
    table["task"] = table["task"].where(~table["task"].str.startswith("tc_regression"), "tc_regression")
    table["cell"] = table.apply(lambda r: f"{r['mean']:.3f} ± {r['std']:.3f}", axis=1)
    for task, metrics in SHOWN.items():
        part = table[(table["task"] == task) & table["metric"].isin(metrics)]
        if part.empty:
            continue
        index = ["dataset", "protocol", "threshold_K", "n_test", "model"] + (["class"] if task == "tc_regression"
                                                                            else [])
        wide = part.pivot_table(index=index, columns="metric", values="cell", aggfunc="first")
        wide = wide[[m for m in metrics if m in wide.columns]].reset_index()
        print(f"\n#### {task}\n")
        print(wide.to_markdown(index=False))


if __name__ == "__main__":
    main()
