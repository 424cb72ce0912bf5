"""Hyperparameter check on validation data only: ``python benchmarks/validation.py MODEL [key=value ...]``.

Takes the training part of the seed-0 SuperCon random split, with ``--dataset 3dsc`` of the seed-0
3DSC split grouped by SuperCon formula, or with ``--dataset s2s`` of the seed-0 stratified S2S split
(the test fifth is never read), holds out 15% of it as a validation set, fits MODEL with the given
parameters on the rest and prints accuracy, ROC-AUC and, where the data has Tc, Tc MAE and R² on
superconductors of that validation set, and the fit time.
Schedules and sizes of the committed models were chosen with it.
"""

from __future__ import annotations

import argparse
import ast
import time

import numpy as np
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score

from sc_core import data
from sc_core.io import parse_formula
from sc_core.models import model_class
from sc_core.splits import group_split, stratified_split

VALIDATION_SEED, VALIDATION_FRACTION = 123, 0.15


def validation_split(dataset: str) -> tuple[list, np.ndarray, np.ndarray]:
    """(inputs, Tc, validation mask) inside the training part of a seed-0 test split.

    supercon: compositions, random split over unique compositions; 3dsc: structures, split grouped by
    SuperCon formula (validation grouped the same way); s2s: structures, stratified split, validation
    grouped by reduced formula, Tc NaN (S2S has labels only).
    """
    if dataset == "supercon":
        table = data.load_supercon()
        table = table[~group_split(table["comp_key"].to_numpy(), 0)].reset_index(drop=True)
        val = group_split(table["comp_key"].to_numpy(), VALIDATION_SEED, VALIDATION_FRACTION)
        return [parse_formula(f) for f in table["formula"]], table["tc"].to_numpy(), val
    if dataset == "s2s":
        table = data.load_s2s()
        table = table[~stratified_split(table["label"].to_numpy().astype(bool), 0)].reset_index(drop=True)
        val = group_split(table["reduced_formula"].to_numpy(), VALIDATION_SEED, VALIDATION_FRACTION)
        tc = np.where(table["label"].to_numpy().astype(bool), np.nan, 0.0)
        return [data.s2s_structures()[i] for i in table["id"]], tc, val
    table = data.load_3dsc()
    table = table[~group_split(table["group"].to_numpy(), 0)].reset_index(drop=True)
    val = group_split(table["group"].to_numpy(), VALIDATION_SEED, VALIDATION_FRACTION)
    return data.structures_3dsc(table["cif_name"]), table["tc"].to_numpy(), val


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/validation.py")
    parser.add_argument("model")
    parser.add_argument("params", nargs="*", help="constructor parameters, e.g. epochs=150 lr=4e-3")
    parser.add_argument("--dataset", choices=("supercon", "3dsc", "s2s"), default="supercon",
                        help="supercon (compositions), or 3dsc or s2s (structures, for structure models)")
    args = parser.parse_args()
    params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.params)}
    comps, tc, val = validation_split(args.dataset)
    start = time.time()
    known_tc = (tc > 0).any()  # S2S has labels only
    model = model_class(args.model)(**params).fit([c for c, v in zip(comps, val) if not v],
                                                  tc=tc[~val] if known_tc else None, labels=tc[~val] != 0)
    seconds = time.time() - start
    pred = model.predict([c for c, v in zip(comps, val) if v])
    y = ~(tc[val] == 0)  # superconductors: Tc > 0, or NaN where only the label is known
    known = y & ~np.isnan(tc[val])
    regression = (f"Tc MAE {mean_absolute_error(tc[val][known], pred['tc_K'][known]):.2f} K, "
                  f"R² {r2_score(tc[val][known], pred['tc_K'][known]):.3f} on superconductors; ") if known.any() else ""
    print(f"{args.model} {params} on {args.dataset} validation (n = {val.sum()}): "
          f"accuracy {accuracy_score(y, pred['p_sc'] >= 0.5):.4f}, ROC-AUC {roc_auc_score(y, pred['p_sc']):.4f}, "
          f"{regression}fit {seconds:.0f} s")


if __name__ == "__main__":
    main()
