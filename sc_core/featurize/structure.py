"""Structure descriptors and neighbour lists shared by the structure-aware models."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from sc_core.chemistry import majority_species
from sc_core.io import InputError

# Expected (centre, neighbour) pairs a search may return: 500 sites at 1 atom/Å^3 (io's densest) within 8 Å
# give about 1.1 million, ~60 MB of arrays. Refusing beyond this keeps any request within memory.
MAX_EXPECTED_NEIGHBOURS = 2_000_000

GLOBAL_FEATURES = [
    "n_sites", "volume_per_atom", "density", "a", "b", "c", "alpha", "beta", "gamma",
    "min_neighbor_distance", "mean_neighbor_distance", "packing_fraction",
]


def neighbor_list(structure: Structure, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Periodic neighbours within `cutoff` Å: centre index, neighbour index, image, distance (vectorised).

    InputError, before searching, when the expected number of pairs, n_sites × (n_sites / volume) ×
    4/3·π·cutoff³, exceeds MAX_EXPECTED_NEIGHBOURS (or the volume is not positive): a structure that skipped
    the sanity gate in :mod:`sc_core.io` cannot exhaust memory here.
    """
    volume = abs(float(np.linalg.det(structure.lattice.matrix)))
    expected = len(structure) ** 2 / volume * 4 / 3 * np.pi * cutoff**3 if volume > 0 else np.inf
    if not expected <= MAX_EXPECTED_NEIGHBOURS:  # also for NaN
        raise InputError(f"The structure is too dense for a neighbour search: about {expected:.3g} neighbour "
                         f"pairs within {cutoff:g} Å (the limit is {MAX_EXPECTED_NEIGHBOURS:,}); "
                         "check the cell lengths and the scale factor.")
    centre, neighbour, images, distances = structure.get_neighbor_list(cutoff)
    return centre.astype(np.int64), neighbour.astype(np.int64), images.astype(np.int64), distances


def global_features(structure: Structure, cutoff: float = 6.0) -> np.ndarray:
    """Cell geometry and nearest-neighbour statistics of one structure (see GLOBAL_FEATURES)."""
    n = len(structure)
    centre, _, _, dist = neighbor_list(structure, cutoff)
    nearest = np.full(n, cutoff)
    np.minimum.at(nearest, centre, dist)
    majority = [majority_species(site.species) for site in structure]
    radii = np.array([float(sp.atomic_radius or 1.5) for sp in majority])
    packing = (4 / 3 * np.pi * radii**3).sum() / structure.volume
    lat = structure.lattice
    return np.array([n, structure.volume / n, structure.density, lat.a, lat.b, lat.c, lat.alpha, lat.beta,
                     lat.gamma, nearest.min(), nearest.mean(), packing], dtype=np.float32)
