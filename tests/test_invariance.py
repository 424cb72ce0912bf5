"""sc_core.invariance: every rewriting is the same crystal, and a model that reads only invariant inputs gives one
answer for all of them (the crystal-graph network with whole neighbour shells, S2SNet on bonds and cell invariants;
property-based over crystals)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymatgen.analysis.structure_matcher import StructureMatcher
from toy_structures import toy_structures

from sc_core import attribution, data, invariance
from sc_core.data.textbook import textbook_crystals
from sc_core.models.base import Model
from sc_core.models.crystal_graph import CrystalGraphNet
from sc_core.models.s2snet import S2SNet

CRYSTALS = [s for _, s in textbook_crystals()]
SMALL_3DSC = data.load_3dsc().query("n_sites <= 12")["cif_name"].sample(n=30, random_state=0).tolist()


@pytest.fixture(scope="module", params=["crystal_graph", "s2snet"])
def invariant_net(request) -> Model:
    structures, tc = toy_structures(8)
    if request.param == "crystal_graph":
        net: Model = CrystalGraphNet(n_members=2, width=8, layers=2, epochs=2, batch_size=8, whole_shells=True)
    else:
        net = S2SNet(n_members=2, width=8, layers=2, epochs=2, batch_size=8, whole_shells=True, position="bonds",
                     lattice_inputs="invariants")
    return net.fit(structures, tc=tc)


@pytest.mark.parametrize("structure", CRYSTALS[:3] + CRYSTALS[-2:], ids=lambda s: s.composition.reduced_formula)
def test_rewritings_are_the_same_crystal(structure):
    variants = invariance.rewritings(structure, seed=1)
    assert set(variants) >= {"primitive", "supercell 2x1x1", "supercell 2x2x2", "origin shift", "rotation",
                             "site order"}
    assert ("conventional" in variants) == structure.is_ordered
    matcher = StructureMatcher(attempt_supercell=True, scale=False)
    for name, variant in variants.items():
        assert variant.volume / len(variant) == pytest.approx(structure.volume / len(structure)), name
        assert matcher.fit(structure, variant), name


@settings(max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16))
def test_invariant_structure_nets_give_one_answer_per_crystal(invariant_net, seed):
    crystals = CRYSTALS + data.structures_3dsc(SMALL_3DSC)  # textbook and bundled, symmetric and disordered
    gaps = invariance.invariance_gaps(invariant_net, crystals, seed=seed)
    assert gaps["dp"].max() <= invariance.P_TOLERANCE and gaps["dtc_K"].max() <= invariance.TC_TOLERANCE_K


def test_invariant_structure_nets_credit_equivalent_sites_equally(invariant_net):
    for structure in CRYSTALS:
        for method in invariant_net.attribution_methods:
            sites = attribution.site_contributions(invariant_net, structure, method)
            within, overall = attribution.symmetry_spread(sites)
            assert within <= 1e-5 + 1e-4 * overall, (structure.composition.reduced_formula, method)
            assert attribution.symmetry_warning(sites) is None
