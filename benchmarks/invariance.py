"""How far each structure model's P and Tc move when the same crystal is written another way (sc_core.invariance),
over the textbook crystals and a sample of bundled 3DSC and S2S crystals. Goal (#15): max |ΔP| ≤ 1e-4 and
max |ΔTc| ≤ 0.01 K for every rewriting.

    python benchmarks/invariance.py [--n 20] [--whole-shells]   # the latter: every neighbour tied with the 12th kept
    python benchmarks/invariance.py --model crystal_graph --fit 3dsc_grouped_0   # a saved evaluation fit instead
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from sc_core import checkpoints, data, invariance, models
from sc_core.data.textbook import textbook_crystals
from sc_core.evaluate import fit_name, load_fit


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
    parser.add_argument("--fit", metavar="KEY", help="score each model's saved fit of split KEY (sc evaluate "
                        "--save-fits), e.g. 3dsc_grouped_0, in place of its deployed weights; "
                        "models without one are skipped")
    parser.add_argument("--model", help="one structure model (default: every one)")
    args = parser.parse_args()
    structures = sample(args.n)
    print(f"{len(structures)} crystals; max |ΔP| and max |ΔTc| (K) over them, per rewriting")
    for name in [args.model] if args.model else models.available("structure"):
        if args.fit and not checkpoints.exists(fit_name(name, args.fit)):
            continue
        model = load_fit(name, args.fit) if args.fit else models.load(name)
        if args.whole_shells:
            model.config = dataclasses.replace(model.config, whole_shells=True)
        gaps = invariance.invariance_gaps(model, structures)
        worst = gaps.groupby("rewriting")[["dp", "dtc_K"]].max()
        met = (worst["dp"] <= invariance.P_TOLERANCE) & (worst["dtc_K"] <= invariance.TC_TOLERANCE_K)
        print(f"\n{name}" + (f" (saved fit {args.fit}, whole shells {model.config.whole_shells})" if args.fit else ""))
        print(worst.assign(met=met).to_string(float_format=lambda v: f"{v:.2g}"))


if __name__ == "__main__":
    main()
