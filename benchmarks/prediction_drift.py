"""Predictions of every committed model on fixed inputs, saved or compared: does a refactor change what users see?

    python benchmarks/prediction_drift.py --save before.npz      # on the old tree
    python benchmarks/prediction_drift.py --against before.npz   # on the new one: largest difference per model

Inputs: the first 300 SuperCon formulas plus MgB2, NaCl and a malformed Xx2 (composition models), and the first
40 bundled S2S crystals (structure models). Columns p_sc, p_sc_std, tc_K, tc_std_K.
"""

from __future__ import annotations

import argparse

import numpy as np

from sc_core import data, models

FORMULAS = 300
CRYSTALS = 40


def predictions() -> dict[str, np.ndarray]:
    """Model name → (rows, 4) predictions on the fixed inputs."""
    formulas = list(data.load_supercon()["formula"][:FORMULAS]) + ["MgB2", "NaCl", "Xx2"]
    crystals = list(data.s2s_structures().values())[:CRYSTALS]
    out = {}
    for name in models.available():
        model = models.load(name)
        pred = model.predict(formulas if model.kind == "composition" else crystals)
        out[name] = pred[["p_sc", "p_sc_std", "tc_K", "tc_std_K"]].to_numpy(float)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python benchmarks/prediction_drift.py")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", metavar="FILE", help="write the predictions to FILE (.npz)")
    group.add_argument("--against", metavar="FILE", help="compare with predictions saved in FILE")
    args = parser.parse_args()
    now = predictions()
    if args.save:
        np.savez(args.save, **now)
        print(f"{len(now)} models saved to {args.save}")
        return
    with np.load(args.against) as before:
        for name, values in now.items():
            if name not in before:
                print(f"{name:14s} not in {args.against}")
                continue
            same_blanks = np.array_equal(np.isnan(values), np.isnan(before[name]))
            largest = np.nanmax(np.abs(values - before[name]))
            print(f"{name:14s} rows {len(values):4d}  largest |difference| {largest:.3g}  "
                  f"blanks {'same' if same_blanks else 'DIFFER'}")


if __name__ == "__main__":
    main()
