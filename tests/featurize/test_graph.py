"""Crystal graphs: element vectors, partial occupancy, k nearest periodic neighbours."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sc_core.featurize.graph import crystal_graph, element_vectors, occupancy_matrix
from sc_core.featurize.structure import neighbor_list
from sc_core.io import InputError


def test_element_vectors_one_hot_blocks():
    vectors = element_vectors()
    o, la = vectors[8], vectors[57]
    assert o[15] == 1 and o[18 + 1] == 1 and o[18 + 7 + 1] == 1  # group 16, period 2, p block
    assert la[2] == 1 and la[18 + 5] == 1  # group 3, period 6
    assert vectors[0].sum() == 0 and not np.isnan(vectors).any()


def test_partial_occupancy_is_a_weighted_sum_of_species():
    structure = Structure(Lattice.cubic(4.0), [{"Ag": 0.25, "Pd": 0.75}, "Ge"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    nodes = crystal_graph(structure).nodes
    np.testing.assert_allclose(nodes[0], 0.25 * element_vectors()[47] + 0.75 * element_vectors()[46], rtol=1e-6)
    assert occupancy_matrix(structure).sum(axis=1).tolist() == [1.0, 1.0]


def test_k_nearest_periodic_neighbours():
    a = 3.0
    structure = Structure(Lattice.cubic(a), ["Po"], [[0, 0, 0]])  # simple cubic: 6 at a, 12 at a√2
    graph = crystal_graph(structure, k=8)
    assert (graph.src == 0).all() and (graph.dst == 0).all() and len(graph.src) == 8
    np.testing.assert_allclose(graph.distance[:6], a, rtol=1e-5)
    np.testing.assert_allclose(graph.distance[6:], a * np.sqrt(2), rtol=1e-5)
    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    g = crystal_graph(nacl, k=12, cutoff=8.0)
    assert np.bincount(g.src).tolist() == [12, 12]
    assert all(np.all(np.diff(g.distance[g.src == i]) >= 0) for i in range(2))  # nearest first


def test_whole_shells_keep_ties_with_the_kth_neighbour():
    a = 3.0
    structure = Structure(Lattice.cubic(a), ["Po"], [[0, 0, 0]])  # simple cubic: 6 at a, 12 at a√2
    assert len(crystal_graph(structure, k=6, whole_shells=True).src) == 6
    graph = crystal_graph(structure, k=8, whole_shells=True)  # the 8th neighbour lies in the a√2 shell: all 12 come in
    assert len(graph.src) == 18
    np.testing.assert_allclose(graph.distance[6:], a * np.sqrt(2), rtol=1e-5)
    cscl = Structure(Lattice.cubic(5.64), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])  # 8 + 6 within 5.64 Å
    assert np.bincount(crystal_graph(cscl, k=12, whole_shells=True).src).tolist() == [14, 14]


@pytest.mark.parametrize("whole_shells", [False, True])
def test_equivalent_sites_get_equal_neighbourhoods_only_with_whole_shells(whole_shells):
    h3s = Structure.from_spacegroup("Im-3m", Lattice.cubic(3.09), ["S", "H"], [[0, 0, 0], [0, 0.5, 0.5]])
    g = crystal_graph(h3s, whole_shells=whole_shells)
    shells = {tuple(sorted((round(float(d), 4), h3s[j].specie.symbol) for d, j in zip(g.distance[g.src == i],
                                                                                    g.dst[g.src == i])))
              for i in range(len(h3s)) if h3s[i].specie.symbol == "H"}  # (distance, neighbour) multisets of H sites
    assert (len(shells) == 1) == whole_shells


def test_isolated_site_has_no_edges_and_heavy_elements_are_refused():
    lonely = Structure(Lattice.cubic(20.0), ["Cu"], [[0, 0, 0]])
    assert len(crystal_graph(lonely, cutoff=8.0).src) == 0
    with pytest.raises(ValueError, match="beyond Lr"):
        occupancy_matrix(Structure(Lattice.cubic(4.0), ["Rf"], [[0, 0, 0]]))


def test_neighbour_search_refuses_requests_that_would_exhaust_memory():
    """a = 0.01 Å took the server from 0.8 to 4.4 GB in 6 s; the wrapper refuses before searching."""
    tiny = Structure(Lattice.cubic(0.01), ["Cu"], [[0, 0, 0]])
    with pytest.raises(InputError, match="too dense for a neighbour search"):
        crystal_graph(tiny)
    flat = Structure(Lattice([[3, 0, 0], [0, 3, 0], [3, 3, 0]]), ["Cu"], [[0, 0, 0]])  # zero volume
    with pytest.raises(InputError, match="too dense"):
        neighbor_list(flat, 8.0)
    assert neighbor_list(Structure(Lattice.cubic(3.0), ["Cu"], [[0, 0, 0]]), 3.1)[0].size == 6
