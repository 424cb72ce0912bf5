"""Print the stored test metrics of every evaluated model as Markdown tables (mean ± std over seeds).

    python benchmarks/report.py [MODEL ...]

Reads ``benchmarks/results/<model>.json`` (written by ``sc evaluate``); nothing is recomputed.
"""

from __future__ import annotations

import sys

from sc_core import models
from sc_core.evaluate import results_table

SHOWN = {"classification": ["accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "ece"],
         "tc_regression": ["mae_K", "rmse_K", "r2", "mae_all_K"]}


def main(names: list[str]) -> None:
    table = results_table(names or models.available())
    if table.empty:
        print("no stored results: run `sc evaluate --model NAME` first")
        return
    table["cell"] = table.apply(lambda r: f"{r['mean']:.3f} ± {r['std']:.3f}", axis=1)
    for task, metrics in SHOWN.items():
        part = table[(table["task"] == task) & table["metric"].isin(metrics)]
        if part.empty:
            continue
        wide = part.pivot_table(index=["dataset", "protocol", "threshold_K", "n_test", "model"], columns="metric",
                                values="cell", aggfunc="first")
        wide = wide[[m for m in metrics if m in wide.columns]].reset_index()
        print(f"\n### {task}\n")
        print(wide.to_markdown(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
