"""Who lies inside the applicability domain (sc_core.domain): SuperCon itself, the Hosono 2018 list, the textbook
insulators, COD compositions, and each discovery family when the domain is built without it (the share of a
held-out family flagged outside is what the domain is for).

    python benchmarks/domain.py
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Composition

from sc_core import data, domain
from sc_core.chemistry import DISCOVERY_FAMILIES, discovery_family
from sc_core.data.textbook import textbook_crystals


def share_inside(built: domain.Domain, comps: list[Composition]) -> float:
    return float(np.mean(built.distance(comps) <= built.threshold))


def main() -> None:
    supercon = data.load_supercon()
    comps = [Composition(f) for f in supercon["formula"]]
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
    families = np.array([discovery_family(c) for c in comps])
    for family in DISCOVERY_FAMILIES:
        held = families == family
        if held.sum() < 10:
            continue
        without = domain.build([c for c, h in zip(comps, held) if not h])
        print(f"{family:44s} {int(held.sum()):6d} {share_inside(without, [c for c, h in zip(comps, held) if h]):7.3f}")


if __name__ == "__main__":
    main()
