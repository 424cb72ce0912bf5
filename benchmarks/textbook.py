"""P(superconductor) of every trained model on the textbook crystals (sc_core.data.textbook): issue #15's goal is
P < 0.1 on every plain insulator and P ≥ 0.9 on MgB2, Nb3Sn, NbN, YBa2Cu3O7 and LaFeAsO0.9F0.1. Structure models
read the crystals, composition models their formulas.

    python benchmarks/textbook.py
"""

from __future__ import annotations

import pandas as pd

from sc_core import models, thresholds
from sc_core.data.textbook import textbook_crystals


def main() -> None:
    crystals = textbook_crystals()
    table = pd.DataFrame({"crystal": [c.name for c, _ in crystals],
                          "superconductor": [c.superconductor for c, _ in crystals]})
    cuts = {}
    for name in models.available():
        model = models.load(name)
        cuts[name] = thresholds.of(model.card)
        inputs = [s if model.kind == "structure" else s.composition for _, s in crystals]
        table[name] = model.predict(inputs)["p_sc"].to_numpy()
    names = [c for c in table.columns if c not in ("crystal", "superconductor")]
    print(table.to_string(index=False, float_format=lambda p: f"{p:.3f}"))
    insulators, known = table[~table["superconductor"]], table[table["superconductor"]]
    print(f"\n{'model':14s} insulators with P < 0.1   superconductors with P >= 0.9   "
          "at the decision threshold: insulators read as superconductors, superconductors read as such")
    for name in names:
        print(f"{name:14s} {(insulators[name] < 0.1).sum():>3d} of {len(insulators):<19d} "
              f"{(known[name] >= 0.9).sum():>3d} of {len(known):<26d} threshold {cuts[name]:.3f}: "
              f"{(insulators[name] >= cuts[name]).sum():>2d} of {len(insulators)}, "
              f"{(known[name] >= cuts[name]).sum()} of {len(known)}")


if __name__ == "__main__":
    main()
