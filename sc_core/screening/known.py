"""Matching pool rows to SuperCon: the same compound, the nearest known entries and superconductors."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from pymatgen.core import Composition
from scipy.spatial.distance import cdist

from sc_core import data
from sc_core.chemistry import chemical_system
from sc_core.featurize.composition import to_batch
from sc_core.io import InputError, parse_formula

KNOWN_TOLERANCE = 0.005  # a SuperCon entry with the same elements and every atomic fraction this close is a match
SHORTLIST_FIRST = ["id", "formula", "mp_id", "space_group", "crystal_system", "p_sc"]


@lru_cache(maxsize=1)
def _supercon_by_system() -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
    """SuperCon by element set: (elements, atomic fractions (n, k), Tc (n,))."""
    out = {}
    for system, part in data.load_supercon().groupby("chemsys"):
        elements = system.split("-")
        comps = [Composition(f).fractional_composition for f in part["formula"]]
        out[system] = (elements, np.array([[c[e] for e in elements] for c in comps]), part["tc"].to_numpy())
    return out


def supercon_match(comp: Composition) -> float | None:
    """Tc of the SuperCon entry closest to `comp` (mean over ties) among those with the same elements and every
    atomic fraction within KNOWN_TOLERANCE, or None if there is none (so MgB2 matches SuperCon's B0.67Mg0.33)."""
    entry = _supercon_by_system().get(chemical_system(comp))
    if entry is None:
        return None
    elements, fractions, tc = entry
    frac = comp.fractional_composition
    gap = np.abs(fractions - np.array([frac[e] for e in elements])).max(axis=1)
    if gap.min() > KNOWN_TOLERANCE:
        return None
    return float(tc[gap <= gap.min() + 1e-9].mean())


@lru_cache(maxsize=1)
def _supercon_fractions() -> tuple[pd.DataFrame, np.ndarray]:
    table = data.load_supercon()
    return table, to_batch([Composition(f) for f in table["formula"]]).fraction_matrix()


def _distances(comps: list[Composition | None], rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """(len(comps), n) half L1 distances between atomic fractions and SuperCon `rows` (NaN for None)."""
    _, fractions = _supercon_fractions()
    query = to_batch([c or Composition() for c in comps]).fraction_matrix()
    out = 0.5 * cdist(query, fractions[rows], metric="cityblock")
    out[[c is None for c in comps]] = np.nan
    return out


def nearest_known(comp: Composition, k: int = 5) -> pd.DataFrame:
    """The `k` SuperCon entries closest in composition (half the L1 distance between atomic fractions)."""
    table, _ = _supercon_fractions()
    distance = _distances([comp])[0]
    idx = np.argsort(distance, kind="stable")[:k]
    return pd.DataFrame({"formula": table["formula"].to_numpy()[idx], "tc": table["tc"].to_numpy()[idx],
                         "distance": distance[idx]})


def nearest_superconductors(formulas: list[str], chunk: int = 512) -> pd.DataFrame:
    """For each formula, the closest other SuperCon superconductor: nearest_sc, nearest_sc_tc_K, nearest_sc_distance.

    Distance as in :func:`nearest_known`; the material's own composition (distance 0) is skipped, so a known
    superconductor gets its closest relative. Unparsable formulas get empty cells.
    """
    table, _ = _supercon_fractions()
    superconductors = np.flatnonzero(table["tc"].to_numpy() > 0)
    comps: list[Composition | None] = []
    for formula in formulas:
        try:
            comps.append(parse_formula(formula))
        except InputError:
            comps.append(None)
    names, tcs, gaps = [], [], []
    for start in range(0, len(comps), chunk):
        distance = _distances(comps[start : start + chunk], superconductors)
        distance[distance < 1e-9] = np.inf
        best = np.argmin(np.nan_to_num(distance, nan=np.inf), axis=1)
        found = np.isfinite(distance[np.arange(len(best)), best])
        hit = table.iloc[superconductors[best]]
        names += np.where(found, hit["formula"].to_numpy(), "").tolist()
        tcs += np.where(found, hit["tc"].to_numpy(), np.nan).tolist()
        gaps += np.where(found, distance[np.arange(len(best)), best], np.nan).tolist()
    return pd.DataFrame({"nearest_sc": names, "nearest_sc_tc_K": tcs, "nearest_sc_distance": gaps})


def annotate(shortlist: pd.DataFrame) -> pd.DataFrame:
    """The shortlist with the nearest other known superconductor of each row, columns in reading order.

    Kept for shortlists, not whole pools: it compares every row with every SuperCon superconductor.
    """
    nearest = nearest_superconductors(shortlist["formula"].tolist())
    out = shortlist.assign(**{c: nearest[c].to_numpy() for c in nearest})
    first = [*SHORTLIST_FIRST, *[c for c in out if c.startswith("p_sc_")], "tc_gated_K", "tc_K", "tc_std_K",
             *[c for c in out if c.startswith("tc_K_")], "family",
             "in_supercon", "supercon_tc_K", *nearest.columns]
    return out[first + [c for c in out if c not in first and c != "error"] + ["error"]]
