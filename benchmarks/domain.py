"""Who lies inside the applicability domain (sc_core.domain): SuperCon itself, the Hosono 2018 list, the textbook
insulators, COD compositions, and each discovery family when the domain is built without it (the share of a
held-out family flagged outside is what the domain is for).

    python benchmarks/domain.py               # who is inside at the deployed coverage
    python benchmarks/domain.py --calibrate   # the coverage against what it flags (chooses domain.COVERAGE)

The calibration sets the coverage (the share of the domain's own compositions, each measured against the others,
that counts as inside) against two shares: of SuperCon compositions held out at random (a tenth, three seeds), the
share inside, which should stay high; of each discovery family held out (the domain built without it), the share
outside, which is the point of the domain.
"""

from __future__ import annotations

import argparse

import numpy as np
from pymatgen.core import Composition

from sc_core import data, domain
from sc_core.chemistry import DISCOVERY_FAMILIES, discovery_family
from sc_core.data.textbook import textbook_crystals


def share_inside(built: domain.Domain, comps: list[Composition]) -> float:
    return float(np.mean(built.distance(comps) <= built.threshold))


def held_out(comps: list[Composition], held: np.ndarray) -> tuple[domain.Domain, np.ndarray]:
    """The domain built without the compositions `held`, and their distances to it."""
    built = domain.build([c for c, h in zip(comps, held) if not h])
    return built, built.distance([c for c, h in zip(comps, held) if h])


def families_held_out(comps: list[Composition]) -> list[tuple[str, int, domain.Domain, np.ndarray]]:
    """(family, size, domain without it, its distances) for each discovery family of at least 10 compositions."""
    families = np.array([discovery_family(c) for c in comps])
    return [(family, int((families == family).sum()), *held_out(comps, families == family))
            for family in DISCOVERY_FAMILIES if (families == family).sum() >= 10]


COVERAGES = (0.9, 0.925, 0.95, 0.96, 0.97, 0.98, 0.99)


def calibrate(comps: list[Composition]) -> None:
    """Per coverage: the share inside of random held-out SuperCon compositions, and the mean (min, max) share
    outside of held-out discovery families."""
    inside = {q: [] for q in COVERAGES}
    keys = np.array([c.reduced_formula for c in comps])
    unique = np.unique(keys)
    for seed in range(3):
        held = np.isin(keys, np.random.default_rng(seed).choice(unique, len(unique) // 10, replace=False))
        built, distance = held_out(comps, held)
        for q in COVERAGES:
            inside[q].append(np.mean(distance <= np.quantile(built.spread, q)))
    outside = {q: [] for q in COVERAGES}
    for _, _, built, distance in families_held_out(comps):
        for q in COVERAGES:
            outside[q].append(np.mean(distance > np.quantile(built.spread, q)))
    print(f"{'coverage':>8s} {'random held-out inside':>24s} {'held-out family outside: mean (min-max)':>42s}")
    for q in COVERAGES:
        print(f"{q:8.3f} {np.mean(inside[q]):16.3f} ± {np.std(inside[q]):.3f} "
              f"{np.mean(outside[q]):27.3f} ({min(outside[q]):.3f}-{max(outside[q]):.3f})")
    print(f"\ndeployed: domain.COVERAGE = {domain.COVERAGE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="the coverage against what it flags")
    args = parser.parse_args()
    supercon = data.load_supercon()
    comps = [Composition(f) for f in supercon["formula"]]
    if args.calibrate:
        calibrate(comps)
        return
    full = domain.supercon_domain()
    rng = np.random.default_rng(0)
    cod = data.load_cod()["formula"].to_numpy()[rng.choice(len(data.load_cod()), 5000, replace=False)]
    insulators = [s.composition for c, s in textbook_crystals() if not c.superconductor]
    print(f"domain: {full.components.shape[0]} principal components, threshold {full.threshold:.3f}\n")
    print(f"{'set':44s} {'n':>6s} {'inside':>7s}")
    for label, part in [("SuperCon (the domain's own entries)", comps),
                        ("Hosono 2018 list", [Composition(f) for f in data.load_hosono()["formula"]]),
                        ("textbook insulators", insulators),
                        ("COD compositions (5,000 at random)", [Composition(f) for f in cod])]:
        print(f"{label:44s} {len(part):6d} {share_inside(full, part):7.3f}")
    print("\nleave-family-out: the domain built on SuperCon without the family; share of the family inside")
    for family, size, without, distance in families_held_out(comps):
        print(f"{family:44s} {size:6d} {np.mean(distance <= without.threshold):7.3f}")


if __name__ == "__main__":
    main()
