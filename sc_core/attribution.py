"""Why a model predicts what it does: contributions of the elements of a composition, and of the sites of a
crystal for structure models; the S2SNet paper's Fig. 7 crystals as examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from sc_core import data
from sc_core.chemistry import majority_element
from sc_core.io import SYMPREC, InputError
from sc_core.models.base import Model

# Reference prediction for "no element left" (one-element compositions): an undecided P and Tc = 0 K.
EMPTY_P_SC = 0.5
EMPTY_TC_K = 0.0


def _without(fractions: dict[str, float], symbol: str) -> Composition:
    """The composition without `symbol`, the other atomic fractions rescaled to sum to 1."""
    rest = {el: x for el, x in fractions.items() if el != symbol}
    total = sum(rest.values())
    return Composition({el: x / total for el, x in rest.items()})


def element_contributions(model: Model, composition: Composition) -> pd.DataFrame:
    """Per-element contributions to a prediction, by occlusion (model-agnostic).

    Each element is removed in turn and the other fractions renormalised; ``delta_p`` and ``delta_tc_K``
    are the full prediction minus the prediction without the element (positive: the element pushes towards
    a superconductor / a higher Tc). A one-element composition has nothing left after removal: its deltas
    are taken against P = 0.5 and Tc = 0 K. All variants go through one ``model.predict`` call; a variant
    the model cannot predict gets NaN deltas. Columns: element, fraction, delta_p, delta_tc_K, sorted by
    |delta_p| descending. Raises InputError for an empty composition or when the full prediction fails.
    """
    fractions = {el.symbol: x for el, x in composition.fractional_composition.items()} if composition else {}
    if not fractions:
        raise InputError("The composition is empty: give at least one element.")
    symbols = list(fractions)
    variants = [_without(fractions, s) for s in symbols] if len(symbols) > 1 else []
    pred = model.predict([composition, *variants])
    if pred["error"].iloc[0]:
        raise InputError(pred["error"].iloc[0])
    full = pred.iloc[0]
    if variants:
        rest = pred.iloc[1:]
        ok = (rest["error"] == "").to_numpy()
        ref_p = np.where(ok, rest["p_sc"].to_numpy(dtype=float), np.nan)
        ref_tc = np.where(ok, rest["tc_K"].to_numpy(dtype=float), np.nan)
    else:
        ref_p, ref_tc = np.array([EMPTY_P_SC]), np.array([EMPTY_TC_K])
    out = pd.DataFrame({"element": symbols, "fraction": [fractions[s] for s in symbols],
                        "delta_p": float(full["p_sc"]) - ref_p, "delta_tc_K": float(full["tc_K"]) - ref_tc})
    return out.sort_values("delta_p", key=np.abs, ascending=False, kind="stable", ignore_index=True)


# -- structures ----------------------------------------------------------------------------------
FIG7_EXAMPLES = ("BaFe2S3", "H3S", "Sr2CuClO2")  # Liu et al. 2022 (S2SNet), Fig. 7
H3S_A = 3.09  # Å, bcc H3S near 150-200 GPa (Duan et al. 2014; Einaga et al. 2016)
METHOD_NAMES = {"cam": "class activation map (CAM)", "grad_x_input": "gradient × input"}
DEFAULT_MODEL = "s2snet"  # the structure model whose contributions are shown first: the paper's class activation maps
ASYMMETRY_SHARE = 0.1  # flag contributions whose spread within equivalent sites exceeds this share of the total


def equivalent_sites(structure: Structure) -> tuple[np.ndarray, list[str]]:
    """Per site, the index of its set of symmetry-equivalent sites and that set's Wyckoff position (spglib).

    Sets are spglib's crystallographic orbits (a supercell's copies of a site are one set), and the Wyckoff
    multiplicity is that of the conventional cell whatever cell `structure` is (La2CuO4's primitive cell: La 4e,
    Cu 2a). Where spglib finds no symmetry, every site is its own set and the Wyckoff position is empty.
    """
    try:
        dataset = SpacegroupAnalyzer(structure, symprec=SYMPREC).get_symmetry_dataset()
    except (ValueError, TypeError):  # spglib gives up on some disordered or degenerate cells
        return np.arange(len(structure)), [""] * len(structure)
    _, sets = np.unique(dataset.crystallographic_orbits, return_inverse=True)  # numbered by first site
    per_site = len(dataset.std_types) / len(structure)  # sites of the conventional cell per site of this one
    sizes = np.bincount(sets)
    return sets, [f"{round(sizes[k] * per_site)}{letter}" for k, letter in zip(sets, dataset.wyckoffs, strict=True)]


def site_table(structure: Structure) -> pd.DataFrame:
    """One row per site: site, species (with occupancies), majority element, Wyckoff position, set of
    symmetry-equivalent sites, fractional a, b, c, total occupancy."""
    sets, wyckoff = equivalent_sites(structure)
    return pd.DataFrame({
        "site": range(len(structure)),
        "species": [site.species_string for site in structure],
        "element": [majority_element(site.species) for site in structure],
        "wyckoff": wyckoff,
        "equivalent_set": sets,
        "a": structure.frac_coords[:, 0],
        "b": structure.frac_coords[:, 1],
        "c": structure.frac_coords[:, 2],
        "occupancy": [site.species.num_atoms for site in structure],
    })


def site_contributions(model: Model, structure: Structure, method: str | None = None) -> pd.DataFrame:
    """:func:`site_table` plus each site's contribution to the superconductor logit (positive: towards a
    superconductor), by the model's ``method`` (its first of ``attribution_methods`` by default)."""
    method = method or model.attribution_methods[0]
    if method not in model.attribution_methods:
        raise InputError(f"{model.name} offers {', '.join(model.attribution_methods)} contributions, not {method}.")
    try:
        values = model.atom_contributions(structure, method=method)
    except ValueError as exc:  # e.g. an element the model has no vector for
        raise InputError(str(exc)) from exc
    return site_table(structure).assign(contribution=np.asarray(values, dtype=float))


def symmetry_spread(sites: pd.DataFrame) -> tuple[float, float]:
    """Largest max − min of the contributions of :func:`site_contributions` within one set of equivalent
    sites, and over all sites. Equivalent sites should contribute equally; a model whose inputs break the
    symmetry (an origin-dependent centroid distance, ties among nearest neighbours) does not."""
    spread = sites.groupby("equivalent_set")["contribution"].agg(np.ptp)
    return float(spread.max()), float(np.ptp(sites["contribution"]))


def symmetry_warning(sites: pd.DataFrame) -> str | None:
    """A reader's caution when equivalent sites differ by more than ASYMMETRY_SHARE of the total spread."""
    within, overall = symmetry_spread(sites)
    if overall == 0 or within <= ASYMMETRY_SHARE * overall:
        return None
    return (f"Sites that the space group makes equivalent (same Wyckoff set) differ by up to {within:.3f} here, "
            f"{within / overall:.0%} of the spread over all sites: this model's inputs are not fully symmetric "
            "(S2SNet's distance to the cell centroid depends on where the cell's origin is; ties among the "
            "nearest neighbours are broken by order). Read the per-element totals rather than single sites.")


def element_summary(sites: pd.DataFrame) -> pd.DataFrame:
    """Per majority element of :func:`site_contributions`: number of sites, total and mean contribution,
    sorted by total descending."""
    grouped = sites.groupby("element")["contribution"]
    out = pd.DataFrame({"sites": grouped.size(), "total": grouped.sum(), "mean": grouped.mean()})
    return out.sort_values("total", ascending=False).reset_index()


def h3s_im3m() -> Structure:
    """H3S in Im-3m: S on 2a (0, 0, 0), H on 6b (0, ½, ½), a = 3.09 Å."""
    return Structure.from_spacegroup("Im-3m", Lattice.cubic(H3S_A), ["S", "H"], [[0, 0, 0], [0, 0.5, 0.5]])


def fig7_example(formula: str) -> tuple[Structure, str]:
    """A Fig. 7 crystal and its label: H3S built in Im-3m, the others as bundled in the S2S data."""
    if formula == "H3S":
        return h3s_im3m(), f"H3S, Im-3m built with a = {H3S_A} Å (S2SNet paper, Fig. 7)"
    table = data.load_s2s()
    row = table[table["reduced_formula"] == formula].iloc[0]
    return data.s2s_structures()[row["id"]], f"{formula}, S2S crystal {row['id']} (S2SNet paper, Fig. 7)"
