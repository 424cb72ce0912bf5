"""Predictions of every committed model on fixed inputs, saved or compared: does a refactor change what users see?

    python benchmarks/prediction_drift.py --save before.npz      # on the old tree
    python benchmarks/prediction_drift.py --against before.npz   # on the new one: largest difference per model

Inputs: the first 300 SuperCon formulas plus MgB2, NaCl and a malformed Xx2 (composition models), and the first
``--crystals`` bundled S2S crystals (structure models; default 40, all 1,685 with 0). Columns p_sc, p_sc_std,
tc_K, tc_std_K; each model's element vectors are compared too (``<name> vectors``).
"""

from __future__ import annotations

import argparse

import numpy as np

from sc_core import data, models

FORMULAS = 300


def predictions(n_crystals: int) -> dict[str, np.ndarray]:
    """Model name → (rows, 4) predictions on the fixed inputs, and '<name> vectors' → its element vectors."""
    formulas = list(data.load_supercon()["formula"][:FORMULAS]) + ["MgB2", "NaCl", "Xx2"]
    crystals = list(data.s2s_structures().values())[: n_crystals or None]
    out = {}
    for name in models.available():
        model = models.load(name)
        pred = model.predict(formulas if model.kind == "composition" else crystals)
        out[name] = pred[["p_sc", "p_sc_std", "tc_K", "tc_std_K"]].to_numpy(float)
        out[f"{name} vectors"] = model.element_vectors().to_numpy(float)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/prediction_drift.py")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="FILE", help="write the predictions to FILE (.npz)")
    group.add_argument("--against", metavar="FILE", help="compare with predictions saved in FILE")
    parser.add_argument("--crystals", type=int, default=40, help="S2S crystals for the structure models (0: all)")
    args = parser.parse_args()
    now = predictions(args.crystals)
    if args.save:
        np.savez(args.save, **now)
        print(f"{len(now)} models saved to {args.save}")
        return
    with np.load(args.against) as before:
        for name, values in now.items():
            if name not in before:
                print(f"{name:22s} not in {args.against}")
                continue
            same_blanks = np.array_equal(np.isnan(values), np.isnan(before[name]))
            largest = np.nanmax(np.abs(values - before[name]))
            changed = int((np.abs(values - before[name]) > 1e-9).any(axis=1).sum())
            print(f"{name:22s} rows {len(values):5d}  largest |difference| {largest:.3g}  rows changed {changed}  "
                  f"blanks {'same' if same_blanks else 'DIFFER'}")


if __name__ == "__main__":
    main()
