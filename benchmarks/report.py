"""Print the stored test metrics of every evaluated model as Markdown tables (mean ± std over seeds).

    python benchmarks/report.py [MODEL ...] [--thresholds 0,10,25]

Reads ``benchmarks/results/<model>.json`` (written by ``sc evaluate``); nothing is recomputed.
"""

from __future__ import annotations

import argparse

from sc_core import models
from sc_core.evaluate import results_table
from sc_core.report import metric_tables


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
    for task, wide in metric_tables(table, readable=False).items():
        print(f"\n#### {task}\n")
        print(wide.to_markdown(index=False))


if __name__ == "__main__":
    main()
