"""P(superconductor) of every trained model on the textbook crystals (sc_core.data.textbook): issue #15's goal is
P < 0.1 on every plain insulator and P ≥ 0.9 on MgB2, Nb3Sn, NbN, YBa2Cu3O7 and LaFeAsO0.9F0.1. Structure models
read the crystals, composition models their formulas.

    python benchmarks/textbook.py
    python benchmarks/textbook.py --fit 3dsc_grouped_0   # also each model's saved fit of that split, as NAME@KEY
"""

from __future__ import annotations

import argparse

import pandas as pd

from sc_core import checkpoints, models, thresholds
from sc_core.data.textbook import textbook_crystals
from sc_core.evaluate import fit_name, load_fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", metavar="KEY", help="add each model's saved fit of split KEY (sc evaluate "
                        "--save-fits), e.g. 3dsc_grouped_0, where it has one")
    args = parser.parse_args()
    crystals = textbook_crystals()
    table = pd.DataFrame({"crystal": [c.name for c, _ in crystals],
                          "superconductor": [c.superconductor for c, _ in crystals]})
    cuts = {}
    loaded = [(name, models.load(name)) for name in models.available()]
    if args.fit:
        loaded += [(f"{name}@{args.fit}", load_fit(name, args.fit)) for name in models.available()
                   if checkpoints.exists(fit_name(name, args.fit))]
    for name, model in loaded:
        cuts[name] = thresholds.of(model.card)
        inputs = [s if model.kind == "structure" else s.composition for _, s in crystals]
        table[name] = model.predict(inputs)["p_sc"].to_numpy()
    names = [c for c in table.columns if c not in ("crystal", "superconductor")]
    print(table.to_string(index=False, float_format=lambda p: f"{p:.3f}"))
    insulators, known = table[~table["superconductor"]], table[table["superconductor"]]
    width = max(14, *map(len, names))
    print(f"\n{'model':{width}s} insulators with P < 0.1   superconductors with P >= 0.9   "
          "at the decision threshold: insulators read as superconductors, superconductors read as such")
    for name in names:
        print(f"{name:{width}s} {(insulators[name] < 0.1).sum():>3d} of {len(insulators):<19d} "
              f"{(known[name] >= 0.9).sum():>3d} of {len(known):<26d} threshold {cuts[name]:.3f}: "
              f"{(insulators[name] >= cuts[name]).sum():>2d} of {len(insulators)}, "
              f"{(known[name] >= cuts[name]).sum()} of {len(known)}")


if __name__ == "__main__":
    main()
