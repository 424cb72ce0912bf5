"""Space groups and crystal systems of pool rows (pymatgen's symmetry modules, with spglib, are imported on first
use, not when ``sc`` or the app starts)."""

from __future__ import annotations

from functools import cache

import pandas as pd
from pymatgen.core import Structure

from sc_core import data


def space_group(structure: Structure | None) -> str:
    """Hermann-Mauguin symbol found by spglib (tolerance 0.1 Å); '' without a structure or a solution."""
    if structure is None:
        return ""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return SpacegroupAnalyzer(structure, symprec=0.1).get_space_group_symbol()
    except (TypeError, ValueError):  # spglib finds no symmetry for a malformed cell
        return ""


@cache
def crystal_system(symbol: str) -> str:
    """Crystal system of a Hermann-Mauguin symbol ('cubic', 'trigonal', ...); '' if unknown or empty."""
    from pymatgen.symmetry.groups import SpaceGroup

    try:
        return SpaceGroup(symbol).crystal_system if symbol else ""
    except ValueError:
        return ""


@cache
def _s2s_space_group(ref: str) -> str:
    return space_group(data.s2s_structures()[ref])


def space_groups(pool: pd.DataFrame) -> list[str]:
    """Space group of each row with a structure: as written in the bundled 3DSC CIFs, else by symmetry search."""
    if "structure" in pool.columns:
        return [space_group(s) for s in pool["structure"]]
    bundled = data.space_groups_3dsc() if (pool["source"] == "3dsc").any() else {}
    return [bundled.get(ref, "") if source == "3dsc" else _s2s_space_group(ref) if source == "s2s" else ""
            for source, ref in zip(pool["source"], pool["structure_ref"])]
