"""How far each structure model's P and Tc move when the same crystal is written another way (sc_core.invariance),
over the textbook crystals and a sample of bundled 3DSC and S2S crystals. Goal (#15): max |ΔP| ≤ 1e-4 and
max |ΔTc| ≤ 0.01 K for every rewriting.

    python benchmarks/invariance.py [--n 20] [--whole-shells]   # the latter: every neighbour tied with the 12th kept
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from sc_core import data, invariance, models
from sc_core.data.textbook import textbook_crystals


def sample(n: int) -> list:
    rng = np.random.default_rng(0)
    table = data.load_3dsc()
    small = table[table["n_sites"] <= 24]
    names = small["cif_name"].to_numpy()[rng.choice(len(small), n, replace=False)]
    s2s = list(data.s2s_structures().values())
    picked = [s2s[i] for i in rng.choice(len(s2s), n, replace=False) if len(s2s[i]) <= 24]
    return [s for _, s in textbook_crystals()] + data.structures_3dsc(names) + picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="3DSC and S2S crystals each (default 20)")
    parser.add_argument("--whole-shells", action="store_true",
                        help="run the trained weights on graphs that keep whole neighbour shells")
    args = parser.parse_args()
    structures = sample(args.n)
    print(f"{len(structures)} crystals; max |ΔP| and max |ΔTc| (K) over them, per rewriting")
    for name in models.available("structure"):
        model = models.load(name)
        if args.whole_shells:
            model.config = dataclasses.replace(model.config, whole_shells=True)
        gaps = invariance.invariance_gaps(model, structures)
        worst = gaps.groupby("rewriting")[["dp", "dtc_K"]].max()
        met = (worst["dp"] <= invariance.P_TOLERANCE) & (worst["dtc_K"] <= invariance.TC_TOLERANCE_K)
        print(f"\n{name}")
        print(worst.assign(met=met).to_string(float_format=lambda v: f"{v:.2g}"))


if __name__ == "__main__":
    main()
