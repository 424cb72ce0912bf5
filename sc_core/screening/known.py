"""Matching pool rows to SuperCon: the same compound, the nearest known entries and superconductors."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from pymatgen.core import Composition

from sc_core import data, domain
from sc_core.chemistry import alphabetical_rank, chemical_systems
from sc_core.featurize.composition import CompositionBatch, compositions_batch, to_batch
from sc_core.featurize.formulas import parse_formulas
from sc_core.io import InputError, parse_formula
from sc_core.models.base import Progress
from sc_core.screening.chunks import chunked

KNOWN_TOLERANCE = 0.005  # a SuperCon entry with the same elements and every atomic fraction this close is a match
SHORTLIST_FIRST = ["id", "formula", "mp_id", "space_group", "crystal_system", "p_sc"]


@lru_cache(maxsize=1)
def _supercon_by_system() -> tuple[dict[str, tuple[int, int]], np.ndarray, np.ndarray, np.ndarray]:
    """SuperCon ordered by element set: where each set's entries are ({system: (first, stop)}), their atomic fractions
    (n, k) in the alphabetical order of their elements (zero-padded), formulas (n,) and Tc (n,)."""
    table = data.load_supercon()
    table = table.iloc[np.argsort(table["chemsys"].to_numpy(dtype=str), kind="stable")]
    systems = table["chemsys"].tolist()
    fractions = _alphabetical_fractions(parse_formulas(table["formula"].tolist())[0])
    firsts = np.flatnonzero([True] + [a != b for a, b in itertools.pairwise(systems)])
    stops = np.append(firsts[1:], len(systems))
    where = {systems[first]: (int(first), int(stop)) for first, stop in zip(firsts, stops, strict=True)}
    return where, fractions, table["formula"].to_numpy(), table["tc"].to_numpy()


def _close_entries(batch: CompositionBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, entry, distance) of every SuperCon entry that is the compound of a batch row (see :func:`supercon_match`),
    by row, closest first (ties in SuperCon's order); entries index :func:`_supercon_by_system`'s arrays."""
    where, fractions, _, _ = _supercon_by_system()
    system, systems = chemical_systems(batch.z)
    bounds = np.array([where.get("-".join(s), (0, 0)) for s in systems], dtype=np.int64).reshape(-1, 2)[system]
    counts = bounds[:, 1] - bounds[:, 0]
    row = np.repeat(np.arange(len(batch)), counts)
    entry = np.repeat(bounds[:, 0] - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
    query = _alphabetical_fractions(batch)[:, : fractions.shape[1]]  # a row with more elements has no entry
    gap = np.abs(np.pad(query, ((0, 0), (0, fractions.shape[1] - query.shape[1])))[row] - fractions[entry])
    close = gap.max(axis=1, initial=0.0) <= KNOWN_TOLERANCE
    row, entry, distance = row[close], entry[close], 0.5 * gap[close].cumsum(axis=1)[:, -1]  # summed left to right
    order = np.lexsort((distance, row))
    return row[order], entry[order], distance[order]


def _alphabetical_fractions(batch: CompositionBatch) -> np.ndarray:
    """The atomic fractions of each batch row in the alphabetical order of its elements (as chemsys lists them)."""
    return np.take_along_axis(batch.x, np.argsort(alphabetical_rank()[batch.z], axis=1, kind="stable"), axis=1)


def _matches(comp: Composition) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(formulas, distances, Tc) of the entries that match `comp`, closest first (see :func:`supercon_match`)."""
    _, entry, distance = _close_entries(compositions_batch([comp]))
    _, _, formulas, tc = _supercon_by_system()
    return formulas[entry], distance, tc[entry]


@dataclass(frozen=True)
class SuperconMatch:
    """The SuperCon entries that are one composition: how many, their Tc range, and the closest of them."""

    entries: int  # entries with the same elements and every atomic fraction within KNOWN_TOLERANCE
    tc_min: float
    tc_max: float
    formula: str  # the closest entry
    distance: float  # its composition distance (half the L1 distance between atomic fractions; 0 = exact)
    tc: float  # its Tc: the mean over the entries as close
    as_close: int  # how many entries are as close as it (the same composition, measured more than once)


def supercon_match(comp: Composition) -> SuperconMatch | None:
    """What SuperCon knows of `comp`, or None: the entries with the same elements and every atomic fraction
    within KNOWN_TOLERANCE (the Predict page's note; :func:`supercon_matches` gives the same for a batch)."""
    formulas, distance, tc = _matches(comp)
    if not len(tc):
        return None
    closest = distance <= distance[0] + 1e-9
    return SuperconMatch(entries=len(tc), tc_min=float(tc.min()), tc_max=float(tc.max()), formula=str(formulas[0]),
                         distance=float(distance[0]), tc=float(tc[closest].mean()), as_close=int(closest.sum()))


MATCH_COLUMNS = ["in_supercon", "supercon_entries", "supercon_tc_min_K", "supercon_tc_max_K", "supercon_formula",
                 "supercon_tc_K", "supercon_distance"]  # the screening columns of a SuperCon match


def supercon_matches(batch: CompositionBatch) -> pd.DataFrame:
    """:func:`supercon_match` of every batch row, as the MATCH_COLUMNS (blank where SuperCon has no entry)."""
    row, entry, distance = _close_entries(batch)
    _, _, formulas, tc = _supercon_by_system()
    n = len(batch)
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])[: len(row)]  # each row's closest entry
    closest = distance <= np.repeat(distance[first], np.diff(np.append(first, len(row)))) + 1e-9
    count = np.bincount(row[closest], minlength=n)
    total = np.bincount(row[closest], weights=tc[entry[closest]], minlength=n)
    entries = np.bincount(row, minlength=n)
    low, high = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(low, row, tc[entry])
    np.maximum.at(high, row, tc[entry])
    name, gap = np.full(n, "", dtype=object), np.full(n, np.nan)
    name[row[first]], gap[row[first]] = formulas[entry[first]], distance[first]
    known = entries > 0
    return pd.DataFrame({"in_supercon": known, "supercon_entries": entries,
                         "supercon_tc_min_K": np.where(known, low, np.nan),
                         "supercon_tc_max_K": np.where(known, high, np.nan), "supercon_formula": name,
                         "supercon_tc_K": total / np.where(count > 0, count, np.nan), "supercon_distance": gap})


@lru_cache(maxsize=1)
def _supercon_fractions() -> tuple[pd.DataFrame, np.ndarray]:
    """SuperCon and its atomic fractions by element: (MAX_Z + 1, n), one row per Z."""
    table = data.load_supercon()
    return table, np.ascontiguousarray(to_batch([Composition(f) for f in table["formula"]]).fraction_matrix().T)


@lru_cache(maxsize=1)
def _superconductor_fractions() -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`_supercon_fractions` for the superconductors (Tc > 0) only."""
    table, by_element = _supercon_fractions()
    superconductor = table["tc"].to_numpy() > 0
    return table[superconductor].reset_index(drop=True), np.ascontiguousarray(by_element[:, superconductor])


def _distances(comps: list[Composition], by_element: np.ndarray) -> np.ndarray:
    """(len(comps), n) half L1 distances between atomic fractions and the `by_element` (MAX_Z + 1, n) entries.

    Both sides sum to 1, so half the L1 distance is 1 − Σ min(a, b), a sum over the elements they share:
    each element of `comps` meets only the entries that contain it.
    """
    query = to_batch(comps).fraction_matrix()
    shared = np.zeros((len(comps), by_element.shape[1]))
    for z in np.flatnonzero(query.any(axis=0)):
        rows, cols = np.flatnonzero(query[:, z]), np.flatnonzero(by_element[z])
        shared[np.ix_(rows, cols)] += np.minimum(query[rows, z, None], by_element[z, cols])
    return 1.0 - shared


def nearest_known(comp: Composition, k: int = 5) -> pd.DataFrame:
    """The `k` SuperCon entries closest in composition (half the L1 distance between atomic fractions)."""
    table, by_element = _supercon_fractions()
    distance = _distances([comp], by_element)[0]
    idx = np.argsort(distance, kind="stable")[:k]
    return pd.DataFrame({"formula": table["formula"].to_numpy()[idx], "tc": table["tc"].to_numpy()[idx],
                         "distance": distance[idx]})


def nearest_superconductors(formulas: list[str], chunk: int = 256, progress: Progress | None = None) -> pd.DataFrame:
    """For each formula, the closest other SuperCon superconductor: nearest_sc, nearest_sc_tc_K, nearest_sc_distance.

    Distance as in :func:`nearest_known`; the material's own composition (distance 0) is skipped, so a known
    superconductor gets its closest relative. Unparsable formulas get empty cells. Vectorised over `chunk`
    formulas at a time (`progress` is told after each), so whole pools take seconds.
    """
    return _nearest_superconductors([_composition(f) for f in formulas], chunk, progress)


def _nearest_superconductors(comps: list[Composition | None], chunk: int = 256,
                             progress: Progress | None = None) -> pd.DataFrame:
    """:func:`nearest_superconductors` of parsed formulas (None: unparsable)."""
    table, by_element = _superconductor_fractions()
    best, gaps = np.zeros(len(comps), dtype=np.int64), np.full(len(comps), np.nan)
    for start in range(0, len(comps), chunk):
        part = comps[start : start + chunk]
        distance = _distances([c or Composition() for c in part], by_element)
        distance[(distance < 1e-9) | np.array([[c is None] for c in part])] = np.inf
        rows = slice(start, start + len(part))
        best[rows] = np.argmin(distance, axis=1)
        gaps[rows] = distance[np.arange(len(part)), best[rows]]
        if progress:
            progress(rows.stop, len(comps))
    found = np.isfinite(gaps)
    return pd.DataFrame({"nearest_sc": np.where(found, table["formula"].to_numpy()[best], ""),
                         "nearest_sc_tc_K": np.where(found, table["tc"].to_numpy()[best], np.nan),
                         "nearest_sc_distance": np.where(found, gaps, np.nan)})


def _composition(formula: str) -> Composition | None:
    try:
        return parse_formula(formula)
    except InputError:
        return None


def annotate(shortlist: pd.DataFrame, progress: Progress | None = None) -> pd.DataFrame:
    """The shortlist (or a whole screened pool) with the nearest other known superconductor of each row
    (:func:`nearest_superconductors`) and whether the row is inside the models' domain (:mod:`sc_core.domain`),
    columns in reading order; `progress` counts both passes over the rows."""
    n = len(shortlist)

    def after(passed: int) -> Progress:
        return lambda done, _: progress(passed + done, 2 * n) if progress else None

    comps = [_composition(f) for f in shortlist["formula"]]  # parsed once for both passes
    nearest = _nearest_superconductors(comps, progress=after(0))
    parts = chunked(n, lambda rows: domain.assess(comps[rows]), after(n))
    inside = pd.concat(parts, ignore_index=True) if parts else domain.assess([])
    out = shortlist.assign(**{c: nearest[c].to_numpy() for c in nearest}, **{c: inside[c].array for c in inside})
    first = [*SHORTLIST_FIRST, "decision_threshold", "predicted_sc", *[c for c in out if c.startswith("p_sc_")],
             "in_domain", "domain_distance", "tc_gated_K", "tc_K", "tc_std_K",
             *[c for c in out if c.startswith("tc_K_")], "family", *MATCH_COLUMNS, *nearest.columns]
    return out[first + [c for c in out if c not in first and c != "error"] + ["error"]]
