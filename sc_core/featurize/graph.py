"""Crystal graphs: site features and k-nearest periodic neighbours, as arrays.

A site's feature vector is the occupancy-weighted sum of its species' element vectors (Quinn & McQueen's
treatment of partial occupancy), so a disordered site such as ``Ag:0.01, Pd:0.99`` is one node. Edges
join every site to its ``k`` nearest periodic neighbours within ``cutoff`` Å, found by pymatgen's compiled
neighbour search; choosing the k nearest is one sort over all pairs, with no loop over atoms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pymatgen.core import Structure

from sc_core.data import load_elements
from sc_core.featurize.composition import MAX_Z

K_NEIGHBORS = 12
CUTOFF = 8.0  # Å
GRAPH_PROPERTIES = ("electronegativity", "covalent_radius", "valence", "first_ionization_energy",
                    "electron_affinity", "atomic_volume")
N_GROUPS, N_PERIODS, BLOCKS = 18, 7, "spdf"


@lru_cache(maxsize=1)
def element_vectors() -> np.ndarray:
    """(MAX_Z + 1, 18 + 7 + 4 + 6) float32: group, period and block one-hot, then standardised properties.

    f-block elements have no group (all zeros there); missing property values are set to the mean (0).
    Row 0 (no element) is all zeros.
    """
    table = load_elements().set_index("Z").reindex(range(1, MAX_Z + 1))
    group = np.zeros((MAX_Z, N_GROUPS))
    has_group = table["group"].notna().to_numpy()
    group[np.flatnonzero(has_group), table["group"].to_numpy()[has_group].astype(int) - 1] = 1
    period = np.eye(N_PERIODS)[table["period"].to_numpy(dtype=int) - 1]
    block = np.eye(len(BLOCKS))[table["block"].map(BLOCKS.index).to_numpy()]
    props = table[list(GRAPH_PROPERTIES)].to_numpy(dtype=float)
    props = (props - np.nanmean(props, axis=0)) / np.nanstd(props, axis=0)
    out = np.zeros((MAX_Z + 1, N_GROUPS + N_PERIODS + len(BLOCKS) + len(GRAPH_PROPERTIES)), dtype=np.float32)
    out[1:] = np.concatenate([group, period, block, np.nan_to_num(props)], axis=1)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class CrystalGraph:
    """One crystal: node features and directed edges centre → neighbour with their lengths."""

    nodes: np.ndarray  # (n_sites, n_features) float32
    src: np.ndarray  # (n_edges,) int64, centre site
    dst: np.ndarray  # (n_edges,) int64, neighbour site
    distance: np.ndarray  # (n_edges,) float32, Å


def occupancy_matrix(structure: Structure) -> np.ndarray:
    """(n_sites, MAX_Z + 1) species occupancies of each site (column = Z); ValueError beyond Lr."""
    rows, cols, amounts = [], [], []
    for i, site in enumerate(structure):
        for species, amount in site.species.items():
            rows.append(i)
            cols.append(species.Z)
            amounts.append(amount)
    if max(cols, default=0) > MAX_Z:
        raise ValueError(f"Elements beyond Lr (Z > {MAX_Z}) are not covered by this model.")
    out = np.zeros((len(structure), MAX_Z + 1), dtype=np.float32)
    out[rows, cols] = amounts
    return out


def crystal_graph(structure: Structure, k: int = K_NEIGHBORS, cutoff: float = CUTOFF) -> CrystalGraph:
    """The crystal graph of `structure`: each site joined to its `k` nearest neighbours within `cutoff` Å."""
    centres, neighbours, _, distances = structure.get_neighbor_list(cutoff)
    order = np.lexsort((distances, centres))  # by centre, then by distance
    centres, neighbours, distances = centres[order], neighbours[order], distances[order]
    rank = np.arange(len(centres)) - np.searchsorted(centres, centres)  # position within the centre's run
    keep = rank < k
    return CrystalGraph(nodes=occupancy_matrix(structure) @ element_vectors(),
                        src=centres[keep].astype(np.int64), dst=neighbours[keep].astype(np.int64),
                        distance=distances[keep].astype(np.float32))
