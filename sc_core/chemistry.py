"""Composition bookkeeping shared by data, features, screening and pages: keys, systems, families, table layout."""

from __future__ import annotations

import pandas as pd
from pymatgen.core import Composition

FAMILIES = ("cuprate", "iron-based", "hydride", "other")
_PNICTOGENS_CHALCOGENS = {"P", "As", "Sb", "S", "Se", "Te"}
F_ROW_OFFSET = 3  # f rows drawn at rows 9 and 10 (periods 6 and 7), row 8 left empty as a gap
F_FIRST_COL = 4  # Ce and Th sit under group 4, right after La and Ac


def composition_key(comp: Composition, decimals: int = 3) -> str:
    """Scale-free key: atomic fractions rounded to `decimals`, elements in alphabetical order.

    Two formulas for the same material (``Nb3Sn`` and ``Nb3Sn1``, ``Ba2Cu1`` and ``BaCu0.5``) share a key.
    """
    frac = comp.fractional_composition
    parts = sorted((el.symbol, round(amount, decimals)) for el, amount in frac.items())
    return " ".join(f"{symbol}{amount:g}" for symbol, amount in parts if amount > 0)


def chemical_system(comp: Composition) -> str:
    """Element set in alphabetical order joined by '-', e.g. ``Ba-Cu-O-Y``."""
    return "-".join(sorted(el.symbol for el, amount in comp.items() if amount > 0))


def majority_element(species: Composition) -> str:
    """Symbol of the species with the largest occupancy on a site (ties: alphabetical)."""
    sp, _ = max(species.items(), key=lambda kv: (kv[1], str(kv[0])))
    return getattr(sp, "symbol", str(sp))


def family(comp: Composition) -> str:
    """Superconductor family from composition alone.

    cuprate: Cu and O; iron-based: Fe with a pnictogen or chalcogen (As, P, Sb, S, Se, Te);
    hydride: H at least half of the atoms, no C; other: everything else.
    """
    symbols = {el.symbol for el, amount in comp.items() if amount > 0}
    if {"Cu", "O"} <= symbols:
        return "cuprate"
    if "Fe" in symbols and symbols & _PNICTOGENS_CHALCOGENS:
        return "iron-based"
    if "H" in symbols and "C" not in symbols and comp.get_atomic_fraction("H") >= 0.5:
        return "hydride"
    return "other"


def periodic_table_grid() -> pd.DataFrame:
    """Cells of the 18-column periodic table for Z = 1..103: columns symbol, Z, row, col (1-based).

    Rows 1-7 are the periods and columns the groups; La and Ac stay in group 3 of periods 6 and 7, and
    the f block (Ce-Lu, Th-Lr) is drawn as rows 9 and 10 from column 4, below an empty row 8.
    Derived from the group and period columns of the bundled element table.
    """
    # imported here, not at the top: sc_core.data imports this module
    from sc_core.data import load_elements
    from sc_core.featurize.composition import MAX_Z

    table = load_elements().loc[lambda t: t["Z"] <= MAX_Z, ["symbol", "Z", "group", "period"]]
    f_block = table["group"].isna()
    first_f = table[f_block].groupby("period")["Z"].transform("min")
    row = table["period"].where(~f_block, table["period"] + F_ROW_OFFSET)
    col = table["group"].where(~f_block, table["Z"] - first_f + F_FIRST_COL)
    return pd.DataFrame({"symbol": table["symbol"], "Z": table["Z"], "row": row.astype(int),
                         "col": col.astype(int)}).reset_index(drop=True)
