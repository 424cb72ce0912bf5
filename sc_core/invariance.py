"""The same crystal written other ways, and how far a structure model's answer moves between them.

A physical model must give one answer per crystal, whichever cell, origin, frame or site order it is written in
(issue #15: |ΔP| ≤ 1e-4 and |ΔTc| ≤ 0.01 K).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pymatgen.core import Lattice, Structure
from scipy.spatial.transform import Rotation

P_TOLERANCE, TC_TOLERANCE_K = 1e-4, 0.01


def rewritings(structure: Structure, seed: int = 0) -> dict[str, Structure]:
    """`structure` as its primitive and conventional cells, 2×1×1 and 2×2×2 supercells, after a random origin
    shift, a random rotation of the Cartesian frame and a random site order (the conventional cell only when
    spglib reads the crystal: ordered sites)."""
    rng = np.random.default_rng(seed)
    shifted = structure.copy()
    shifted.translate_sites(list(range(len(structure))), rng.random(3), frac_coords=True, to_unit_cell=True)
    rotation = Rotation.random(random_state=seed).as_matrix()
    out = {
        "primitive": structure.get_primitive_structure(),
        "supercell 2x1x1": structure * (2, 1, 1),
        "supercell 2x2x2": structure * (2, 2, 2),
        "origin shift": shifted,
        "rotation": Structure(Lattice(structure.lattice.matrix @ rotation.T), structure.species_and_occu,
                              structure.frac_coords),
        "site order": Structure.from_sites([structure[i] for i in rng.permutation(len(structure))]),
    }
    if structure.is_ordered:
        from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

        out["conventional"] = SpacegroupAnalyzer(structure).get_conventional_standard_structure()
    return out


def invariance_gaps(model, structures: list[Structure], seed: int = 0) -> pd.DataFrame:
    """One row per structure and rewriting: |ΔP| and |ΔTc| (K) of `model` between the rewriting and the cell as
    given."""
    rows = []
    for index, structure in enumerate(structures):
        variants = rewritings(structure, seed + index)
        pred = model.predict([structure, *variants.values()])
        base = pred.iloc[0]
        for (name, _), (_, row) in zip(variants.items(), pred.iloc[1:].iterrows()):
            rows.append({"structure": index, "rewriting": name, "dp": abs(row["p_sc"] - base["p_sc"]),
                         "dtc_K": abs(row["tc_K"] - base["tc_K"])})
    return pd.DataFrame(rows)
