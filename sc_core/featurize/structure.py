"""Structure descriptors and neighbour lists shared by the structure-aware models."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

GLOBAL_FEATURES = [
    "n_sites", "volume_per_atom", "density", "a", "b", "c", "alpha", "beta", "gamma",
    "min_neighbor_distance", "mean_neighbor_distance", "packing_fraction",
]


def neighbor_list(structure: Structure, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Periodic neighbours within `cutoff` Å: centre index, neighbour index, image, distance (vectorised)."""
    centre, neighbour, images, distances = structure.get_neighbor_list(cutoff)
    return centre.astype(np.int64), neighbour.astype(np.int64), images.astype(np.int64), distances


def global_features(structure: Structure, cutoff: float = 6.0) -> np.ndarray:
    """Cell geometry and nearest-neighbour statistics of one structure (see GLOBAL_FEATURES)."""
    n = len(structure)
    centre, _, _, dist = neighbor_list(structure, cutoff)
    nearest = np.full(n, cutoff)
    np.minimum.at(nearest, centre, dist)
    majority = [max(site.species.items(), key=lambda kv: kv[1])[0] for site in structure]
    radii = np.array([float(sp.atomic_radius or 1.5) for sp in majority])
    packing = (4 / 3 * np.pi * radii**3).sum() / structure.volume
    lat = structure.lattice
    return np.array([n, structure.volume / n, structure.density, lat.a, lat.b, lat.c, lat.alpha, lat.beta,
                     lat.gamma, nearest.min(), nearest.mean(), packing], dtype=np.float32)
