"""Crystal graphs: site features and k-nearest periodic neighbours, as arrays.

A site's feature vector is the occupancy-weighted sum of its species' element vectors (Quinn & McQueen's
treatment of partial occupancy), so a disordered site such as ``Ag:0.01, Pd:0.99`` is one node. Edges
join every site to its ``k`` nearest periodic neighbours within ``cutoff`` Å, found by pymatgen's compiled
neighbour search (bounded: :func:`sc_core.featurize.structure.neighbor_list`); choosing the k nearest is one
sort over all pairs, with no loop over atoms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pymatgen.core import Structure

from sc_core.data import element_properties, load_elements
from sc_core.elements import BLOCKS, MAX_Z
from sc_core.featurize.composition import magpie_features, to_batch
from sc_core.featurize.structure import neighbor_list
from sc_core.io import InputError

K_NEIGHBORS = 12
CUTOFF = 8.0  # Å
TIE_TOLERANCE = 0.01  # Å: neighbours this close to the k-th one belong to its shell
GRAPH_PROPERTIES = ("electronegativity", "covalent_radius", "valence", "first_ionization_energy",
                    "electron_affinity", "atomic_volume")
N_GROUPS, N_PERIODS = 18, 7


@lru_cache(maxsize=1)
def element_vectors() -> np.ndarray:
    """(MAX_Z + 1, 18 + 7 + 4 + 6) float32: group, period and block one-hot, then standardised properties.

    f-block elements have no group (all zeros there); properties are standardised by the mean and spread of the
    tabulated values, and a value the table lacks is filled by :func:`sc_core.data.element_properties`'s rule.
    Row 0 (no element) is all zeros.
    """
    table = load_elements().set_index("Z").reindex(range(1, MAX_Z + 1))
    group = np.zeros((MAX_Z, N_GROUPS))
    has_group = table["group"].notna().to_numpy()
    group[np.flatnonzero(has_group), table["group"].to_numpy()[has_group].astype(int) - 1] = 1
    period = np.eye(N_PERIODS)[table["period"].to_numpy(dtype=int) - 1]
    block = np.eye(len(BLOCKS))[table["block"].map(BLOCKS.index).to_numpy()]
    measured = table[list(GRAPH_PROPERTIES)].to_numpy(dtype=float)  # standardised by the tabulated values
    props = (element_properties(GRAPH_PROPERTIES)[1:] - np.nanmean(measured, axis=0)) / np.nanstd(measured, axis=0)
    out = np.zeros((MAX_Z + 1, N_GROUPS + N_PERIODS + len(BLOCKS) + len(GRAPH_PROPERTIES)), dtype=np.float32)
    out[1:] = np.concatenate([group, period, block, props], axis=1)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class CrystalGraph:
    """One crystal: node features, directed edges centre → neighbour with their lengths, the cell parameters."""

    nodes: np.ndarray  # (n_sites, n_features) float32
    src: np.ndarray  # (n_edges,) int64, centre site
    dst: np.ndarray  # (n_edges,) int64, neighbour site
    distance: np.ndarray  # (n_edges,) float32, Å
    cell: np.ndarray  # (6,) float32: a, b, c in Å, α, β, γ in degrees
    descriptors: np.ndarray  # (d,) float32: Magpie descriptors of the cell's composition, or empty (d = 0)


def occupancy_matrix(structure: Structure) -> np.ndarray:
    """(n_sites, MAX_Z + 1) species occupancies of each site (column = Z); ValueError beyond Lr."""
    rows, cols, amounts = [], [], []
    for i, site in enumerate(structure):
        for species, amount in site.species.items():
            rows.append(i)
            cols.append(species.Z)
            amounts.append(amount)
    if max(cols, default=0) > MAX_Z:
        raise InputError(f"Elements beyond Lr (Z > {MAX_Z}) are not covered by this model.")
    out = np.zeros((len(structure), MAX_Z + 1), dtype=np.float32)
    out[rows, cols] = amounts
    return out


def nearest_neighbours(structure: Structure, k: int = K_NEIGHBORS, cutoff: float = CUTOFF,
                       whole_shells: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centre, neighbour, distance) of each site's `k` nearest periodic neighbours within `cutoff` Å, nearest first.

    With `whole_shells` a shell is never cut: neighbours tied (within TIE_TOLERANCE) with the k-th are kept
    too, so sites that are equivalent by symmetry get the same neighbourhoods whatever the order of the search.
    """
    centres, neighbours, _, distances = neighbor_list(structure, cutoff)
    order = np.lexsort((distances, centres))  # by centre, then by distance
    centres, neighbours, distances = centres[order], neighbours[order], distances[order]
    rank = np.arange(len(centres)) - np.searchsorted(centres, centres)  # position within the centre's run
    keep = rank < k
    if whole_shells:
        kth = np.full(len(structure), np.inf)  # distance of each site's k-th neighbour (inf: fewer than k)
        kth[centres[rank == k - 1]] = distances[rank == k - 1]
        keep |= distances <= kth[centres] + TIE_TOLERANCE
    return centres[keep].astype(np.int64), neighbours[keep].astype(np.int64), distances[keep].astype(np.float32)


def centroid_distances(structure: Structure) -> np.ndarray:
    """(n_sites,) distance in Å of each site from the mean position of the sites of the cell (S2SNet's positions)."""
    xyz = structure.cart_coords
    return np.linalg.norm(xyz - xyz.mean(axis=0), axis=1).astype(np.float32)


def crystal_graph(structure: Structure, k: int = K_NEIGHBORS, cutoff: float = CUTOFF,
                  nodes: str = "elements", descriptors: bool = False, whole_shells: bool = False) -> CrystalGraph:
    """The crystal graph of `structure`: each site joined to its `k` nearest neighbours within `cutoff` Å.

    `nodes`: "elements", the occupancy-weighted element vectors; or "occupancy", the species occupancies
    (column = Z) followed by the site's centroid distance, for models that learn their own element embedding.
    `descriptors`: attach the Magpie descriptors of the composition (a per-crystal input beside the graph).
    `whole_shells`: see :func:`nearest_neighbours`.
    """
    src, dst, distance = nearest_neighbours(structure, k, cutoff, whole_shells)
    occupancy = occupancy_matrix(structure)
    if nodes == "elements":
        features = occupancy @ element_vectors()
    elif nodes == "occupancy":
        features = np.concatenate([occupancy, centroid_distances(structure)[:, None]], axis=1)
    else:
        raise ValueError(f"unknown node features {nodes!r}")
    cell = np.array([*structure.lattice.abc, *structure.lattice.angles], dtype=np.float32)
    magpie = magpie_features(to_batch([structure.composition]))[0] if descriptors else np.zeros(0, np.float32)
    return CrystalGraph(nodes=features, src=src, dst=dst, distance=distance, cell=cell, descriptors=magpie)
