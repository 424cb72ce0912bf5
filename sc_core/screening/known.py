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
def _supercon_by_system() -> dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]]:
    """SuperCon by element set: (elements, atomic fractions (n, k), formulas (n,), Tc (n,))."""
    out = {}
    for system, part in data.load_supercon().groupby("chemsys"):
        elements = system.split("-")
        comps = [Composition(f).fractional_composition for f in part["formula"]]
        out[system] = (elements, np.array([[c[e] for e in elements] for c in comps]), part["formula"].to_numpy(),
                       part["tc"].to_numpy())
    return out


def _matches(comp: Composition) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(formulas, distances, Tc) of the entries that match `comp`, closest first (see :func:`known_supercon`)."""
    entry = _supercon_by_system().get(chemical_system(comp))
    if entry is None:
        return np.array([], dtype=str), np.array([]), np.array([])
    elements, fractions, formulas, tc = entry
    gap = np.abs(fractions - np.array([comp.fractional_composition[e] for e in elements]))
    close = gap.max(axis=1) <= KNOWN_TOLERANCE
    distance = 0.5 * gap[close].sum(axis=1)
    order = np.argsort(distance, kind="stable")
    return formulas[close][order], distance[order], tc[close][order]


def _closest(distance: np.ndarray) -> np.ndarray:
    """Which of the sorted `distance` are as small as the first: the matched entries."""
    return distance <= distance[:1].min(initial=np.inf) + 1e-9


def known_supercon(comp: Composition) -> pd.DataFrame:
    """SuperCon entries that are `comp`, closest first: formula, tc, distance and closest (the matched entries).

    An entry is `comp` when it has the same elements and every atomic fraction within KNOWN_TOLERANCE; an exact
    match has distance 0 (half the L1 distance between atomic fractions, as in :func:`nearest_known`), and the
    entries as close as the first are the match. Empty if no entry is within the tolerance.
    """
    formulas, distance, tc = _matches(comp)
    return pd.DataFrame({"formula": formulas, "tc": tc, "distance": distance, "closest": _closest(distance)})


def supercon_match(comp: Composition) -> float | None:
    """Tc of the matched :func:`known_supercon` entry (the mean over entries as close), or None if none is."""
    _, distance, tc = _matches(comp)
    return float(tc[_closest(distance)].mean()) if len(tc) else None


def with_supercon_entries(table: pd.DataFrame) -> pd.DataFrame:
    """A screened `table` with the matched :func:`known_supercon` entry of each row that is in SuperCon:
    supercon_formula before supercon_tc_K, supercon_distance after it (blank for the other rows)."""
    closest = [_matches(parse_formula(f))[:2] if known else ([""], [np.nan])
               for f, known in zip(table["formula"], table["in_supercon"], strict=True)]
    at = table.columns.get_loc("supercon_tc_K")
    out = table.copy()
    out.insert(at, "supercon_formula", [formulas[0] for formulas, _ in closest])
    out.insert(at + 2, "supercon_distance", [float(distance[0]) for _, distance in closest])
    return out


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
             "in_supercon", "supercon_formula", "supercon_tc_K", "supercon_distance", *nearest.columns]
    return out[first + [c for c in out if c not in first and c != "error"] + ["error"]]
