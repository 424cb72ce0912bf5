"""A learnable toy set of crystals shared by the structure-model tests."""

import numpy as np
from pymatgen.core import Lattice, Structure


def toy_structures(n: int = 40) -> tuple[list[Structure], np.ndarray]:
    """bcc Nb-Ti alloys superconduct (Tc rising with Nb); rock-salt FeO (8-site cells of a few sizes) does not."""
    rng = np.random.default_rng(0)
    structures, tc = [], []
    for i in range(n):
        x = rng.uniform(0.2, 0.8)
        if i % 2:
            structures.append(Structure(Lattice.cubic(3.3), [{"Nb": x, "Ti": 1 - x}] * 2, [[0, 0, 0], [0.5, 0.5, 0.5]]))
            tc.append(5 + 10 * x)
        else:
            structures.append(Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.3 + 0.2 * x), ["Fe", "O"],
                                                        [[0, 0, 0], [0.5, 0.5, 0.5]]))
            tc.append(0.0)
    return structures, np.array(tc)
